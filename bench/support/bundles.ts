/**
 * Bundles Lambda entries the way the constructs deploy them and measures each bundle: size in
 * bytes and cold module-load time (the time `require()` takes in a fresh Node process).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { type BuildOptions, build, type Metafile } from 'esbuild';
import { type SampleSummary, summarize } from './stats';

/**
 * esbuild options of a deployed function, as NodejsFunction builds it for nodejs22.x with
 * `minify: true, sourceMap: false` (ServiceFunction's default): the Lambda runtime ships the AWS SDK v3, so `@aws-sdk/*` stays
 * external, and `@smithy/*` too because cdk.json sets `sdkV3ExcludeSmithyPackages`.
 */
export const DEPLOYED_BUNDLE_OPTIONS = {
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  minify: true,
  sourcemap: false,
  external: ['@aws-sdk/*', '@smithy/*'],
} as const satisfies BuildOptions;

/** The same with everything bundled (what `bundleAwsSDK: true` deploys). */
export const FULL_BUNDLE_OPTIONS = {
  ...DEPLOYED_BUNDLE_OPTIONS,
  external: [],
} as const satisfies BuildOptions;

export type BundleVariant = 'deployed' | 'full';

export interface BundleFigures {
  readonly bytes: number;
  /** 0: deployed bundles carry no source map (the one-type consumer comparison measures one). */
  readonly sourceMapBytes: number;
  /** The npm package (or `own code`) that contributes most bytes to the bundle. */
  readonly largestInput: { readonly name: string; readonly bytes: number };
  readonly outfile: string;
}

/** `example/functions/*.ts`, sorted; empty when the directory does not exist yet. */
export function functionEntries(directory: string): string[] {
  if (!existsSync(directory)) return [];
  return readdirSync(directory)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .sort()
    .map((f) => join(directory, f));
}

function packageOf(inputPath: string): string {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(inputPath.replace(/\\/g, '/'));
  return match ? match[1]! : 'own code';
}

function largestInput(metafile: Metafile, outfileKey: string): { name: string; bytes: number } {
  const output = Object.entries(metafile.outputs).find(([key]) => key.endsWith(outfileKey))?.[1];
  const byPackage = new Map<string, number>();
  for (const [path, input] of Object.entries(output?.inputs ?? {})) {
    const name = packageOf(path);
    byPackage.set(name, (byPackage.get(name) ?? 0) + input.bytesInOutput);
  }
  const [name, bytes] = [...byPackage.entries()].sort((a, b) => b[1] - a[1])[0] ?? ['none', 0];
  return { name, bytes };
}

/** Bundles one entry into `outDir/<variant>/<name>/index.js` and measures the output. */
export async function bundleEntry(
  entry: string,
  variant: BundleVariant,
  outDir: string,
): Promise<BundleFigures> {
  const name = basename(entry, '.ts');
  const outfile = join(outDir, variant, name, 'index.js');
  const result = await build({
    ...(variant === 'deployed' ? DEPLOYED_BUNDLE_OPTIONS : FULL_BUNDLE_OPTIONS),
    entryPoints: [entry],
    outfile,
    metafile: true,
    logLevel: 'silent',
  });
  return {
    bytes: statSync(outfile).size,
    sourceMapBytes: existsSync(`${outfile}.map`) ? statSync(`${outfile}.map`).size : 0,
    largestInput: largestInput(result.metafile, join(variant, name, 'index.js')),
    outfile,
  };
}

// Runs in the child: time only the require() of the bundle, not Node's own start-up.
// CPU time too: on a shared machine the wall time includes waiting for a core, the CPU time does not.
const LOAD_SCRIPT = [
  'const cpu = process.cpuUsage();',
  'const start = process.hrtime.bigint();',
  'require(process.argv[1]);',
  'const elapsed = process.hrtime.bigint() - start;',
  'const used = process.cpuUsage(cpu);',
  'process.stdout.write("SWITCHYARD_LOAD_NS=" + elapsed + " CPU_US=" + (used.user + used.system) + "\\n");',
].join('\n');

export class ModuleLoadError extends Error {
  constructor(file: string, detail: string) {
    super(`Loading ${file} in a fresh Node process failed: ${detail}`);
    this.name = 'ModuleLoadError';
  }
}

export interface ColdLoadOptions {
  /** Fresh processes to sample. @default 20 */
  readonly processes?: number;
  /** Directories `require` searches for packages left external (NODE_PATH). */
  readonly nodePath?: readonly string[];
  /** Extra environment for the child, e.g. the variables a handler reads at module load. */
  readonly environment?: Readonly<Record<string, string>>;
}

/**
 * Median (and range) over fresh `node` processes of the time `require(file)` takes.
 * Processes run one after another so they do not compete for the CPU.
 */
export function measureColdLoad(file: string, options: ColdLoadOptions = {}): SampleSummary {
  return summarize(coldLoadSamples(file, options).wallMs);
}

/** Wall and CPU time (user + system, all threads) of each load, in milliseconds. */
export interface LoadSamples {
  readonly wallMs: number[];
  readonly cpuMs: number[];
}

/** The samples behind measureColdLoad. */
function coldLoadSamples(file: string, options: ColdLoadOptions): LoadSamples {
  const samples: LoadSamples = { wallMs: [], cpuMs: [] };
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_LAMBDA_FUNCTION_NAME: basename(file),
    // SDK releases warn at client construction on Node < 22 (this machine runs 20; Lambda's nodejs22.x
    // does not warn). The warning costs 1-2 ms of console set-up in whichever bundle builds a client at
    // load, so it would tilt comparisons between bundles that construct clients at different times.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...options.environment,
  };
  if (options.nodePath) env.NODE_PATH = options.nodePath.join(':');
  for (let i = 0; i < (options.processes ?? 20); i++) {
    const child = spawnSync(process.execPath, ['-e', LOAD_SCRIPT, file], {
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    const match = /SWITCHYARD_LOAD_NS=(\d+) CPU_US=(\d+)/.exec(child.stdout ?? '');
    if (child.status !== 0 || !match) {
      throw new ModuleLoadError(
        file,
        (child.stderr || child.error?.message || `exit ${child.status}`).trim(),
      );
    }
    samples.wallMs.push(Number(match[1]) / 1e6);
    samples.cpuMs.push(Number(match[2]) / 1e3);
  }
  return samples;
}

export interface ColdLoadCase {
  readonly name: string;
  readonly file: string;
  /** NODE_OPTIONS of the child, e.g. `--enable-source-maps`. */
  readonly nodeOptions?: string;
}

/**
 * Cold `require` of several bundles, interleaved: round i loads every case once, in an order that
 * rotates each round, so load on a shared machine falls on all cases alike. Returns each case's
 * samples (wall and CPU milliseconds), by name.
 */
export function measureColdLoadInterleaved(
  cases: readonly ColdLoadCase[],
  options: ColdLoadOptions = {},
): Map<string, LoadSamples> {
  const samples = new Map<string, LoadSamples>(cases.map((c) => [c.name, { wallMs: [], cpuMs: [] }]));
  const rounds = options.processes ?? 20;
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < cases.length; k++) {
      const c = cases[(round + k) % cases.length]!;
      const environment = {
        ...options.environment,
        ...(c.nodeOptions ? { NODE_OPTIONS: c.nodeOptions } : {}),
      };
      const { wallMs, cpuMs } = coldLoadSamples(c.file, { ...options, processes: 1, environment });
      samples.get(c.name)!.wallMs.push(...wallMs);
      samples.get(c.name)!.cpuMs.push(...cpuMs);
    }
  }
  return samples;
}
