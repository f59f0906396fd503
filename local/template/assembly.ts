/**
 * Synthesizes the CDK app named in `cdk.json` (running its `app` command directly, as the CDK CLI
 * does, so no CLI start-up and no network) and reads the cloud assembly: stacks in dependency
 * order, their templates and their file assets.
 *
 * @example
 * const dir = await synthesize({ projectDir: process.cwd() });
 * const stacks = readCloudAssembly(dir);
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { SynthError } from './errors';
import { withNpxEsbuildShim } from './npx-esbuild-shim';
import type { AssemblyStack, CfnTemplate } from './types';

export interface SynthOptions {
  /** Directory holding `cdk.json`. */
  readonly projectDir: string;
  /** Where to write the cloud assembly. @default - a new temporary directory */
  readonly outDir?: string;
  /** Region the app sees as CDK_DEFAULT_REGION. @default 'us-east-1' */
  readonly region?: string;
  /** Account the app sees as CDK_DEFAULT_ACCOUNT. @default '000000000000' */
  readonly accountId?: string;
}

function readJson(path: string, what: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new SynthError(`Cannot read ${what} at ${path}: ${(error as Error).message}`);
  }
}

/** Directories never hashed: outputs, dependencies, VCS data. */
const SKIP_DIRS = new Set(['node_modules', 'cdk.out', '.git']);

function hashTree(hash: ReturnType<typeof createHash>, root: string, path: string): void {
  if (!existsSync(path)) return;
  const stat = statSync(path);
  if (stat.isDirectory()) {
    for (const entry of readdirSync(path).sort())
      if (!SKIP_DIRS.has(entry)) hashTree(hash, root, join(path, entry));
    return;
  }
  hash.update(relative(root, path)).update('\0').update(readFileSync(path)).update('\0');
}

/**
 * A fingerprint of everything synthesis reads: cdk.json, cdk.context.json, the lock file, the
 * tsconfig, and the directories cdk.json's `watch.include` names (the whole project if none).
 */
export function synthFingerprint(projectDir: string): string {
  const root = resolve(projectDir);
  const cdkJson = readJson(join(root, 'cdk.json'), 'cdk.json');
  const include = ((cdkJson.watch as { include?: string[] } | undefined)?.include ?? ['.'])
    .map((pattern) => pattern.split('/')[0]!.replace(/\*.*$/, '') || '.')
    .filter((dir, i, all) => all.indexOf(dir) === i)
    .sort();
  const hash = createHash('sha256').update(process.version);
  for (const file of ['cdk.json', 'cdk.context.json', 'package-lock.json', 'tsconfig.json'])
    hashTree(hash, root, join(root, file));
  for (const dir of include) hashTree(hash, root, join(root, dir));
  return hash.digest('hex').slice(0, 16);
}

/**
 * Like `synthesize`, but reuses the assembly of an earlier run when nothing synthesis reads has
 * changed (kept under `<projectDir>/node_modules/.cache/switchyard/synth/`, where tools keep caches
 * that git ignores): synthesis with bundling
 * takes tens of seconds, and repeated local runs of an unchanged app should not pay it again.
 */
export async function synthesizeCached(
  options: SynthOptions & { readonly log?: (line: string) => void },
): Promise<string> {
  const root = resolve(options.projectDir);
  if (!existsSync(join(root, 'cdk.json'))) return synthesize(options);
  const cacheRoot = join(root, 'node_modules', '.cache', 'switchyard', 'synth');
  const target = join(cacheRoot, `${synthFingerprint(root)}-${options.region ?? 'us-east-1'}`);
  if (existsSync(join(target, 'manifest.json'))) {
    options.log?.(`Using the cached synthesis in ${relative(root, target)} (app sources unchanged).`);
    return target;
  }
  options.log?.('Synthesizing the CDK app ...');
  mkdirSync(cacheRoot, { recursive: true });
  const fresh = await synthesize({ ...options, outDir: `${target}.tmp-${process.pid}` });
  // Older fingerprints are stale by definition: keep only the newest.
  for (const old of readdirSync(cacheRoot)) {
    if (join(cacheRoot, old) !== fresh) rmSync(join(cacheRoot, old), { recursive: true, force: true });
  }
  renameSync(fresh, target);
  return target;
}

/** Runs the CDK app and returns the cloud assembly directory. */
export async function synthesize(options: SynthOptions): Promise<string> {
  const projectDir = resolve(options.projectDir);
  const cdkJsonPath = join(projectDir, 'cdk.json');
  if (!existsSync(cdkJsonPath)) {
    throw new SynthError(
      `No cdk.json in ${projectDir}. Run switchyard from the CDK project root, or pass --app-dir DIR.`,
    );
  }
  const cdkJson = readJson(cdkJsonPath, 'cdk.json');
  const app = cdkJson.app;
  if (typeof app !== 'string' || !app.trim()) {
    throw new SynthError(`${cdkJsonPath} has no "app" command, e.g. "app": "npx ts-node bin/app.ts".`);
  }
  const contextFile = join(projectDir, 'cdk.context.json');
  const context = {
    ...(existsSync(contextFile) ? readJson(contextFile, 'cdk.context.json') : {}),
    ...((cdkJson.context as Record<string, unknown> | undefined) ?? {}),
  };
  const outDir = resolve(options.outDir ?? mkdtempSync(join(tmpdir(), 'switchyard-cdk-out-')));
  const shim = withNpxEsbuildShim({
    ...process.env,
    CDK_OUTDIR: outDir,
    CDK_CONTEXT_JSON: JSON.stringify(context),
    CDK_DEFAULT_REGION: options.region ?? 'us-east-1',
    CDK_DEFAULT_ACCOUNT: options.accountId ?? '000000000000',
  });
  const output = await new Promise<{ code: number | null; text: string }>((done, fail) => {
    const child = spawn(app, {
      cwd: projectDir,
      env: shim.env,
      shell: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    child.stdout.on('data', (d) => {
      text += d;
    });
    child.stderr.on('data', (d) => {
      text += d;
    });
    child.once('error', fail);
    child.once('exit', (code) => done({ code, text }));
  }).finally(() => shim.remove());
  if (output.code !== 0 || !existsSync(join(outDir, 'manifest.json'))) {
    throw new SynthError(
      `Synthesizing the app (\`${app}\`) failed with exit code ${output.code}:\n${output.text.trim()}`,
    );
  }
  return outDir;
}

interface ManifestArtifact {
  readonly type: string;
  readonly displayName?: string;
  readonly dependencies?: string[];
  readonly properties?: {
    readonly templateFile?: string;
    readonly stackName?: string;
    readonly file?: string;
    readonly directoryName?: string;
  };
}

function fileAssets(assemblyDir: string, assetManifest: string | undefined): Map<string, string> {
  const assets = new Map<string, string>();
  if (!assetManifest) return assets;
  const manifest = readJson(join(assemblyDir, assetManifest), 'asset manifest') as {
    files?: Record<
      string,
      { source: { path?: string }; destinations: Record<string, { objectKey: string }> }
    >;
  };
  for (const file of Object.values(manifest.files ?? {})) {
    if (!file.source.path) continue;
    for (const destination of Object.values(file.destinations)) {
      assets.set(destination.objectKey, resolve(assemblyDir, file.source.path));
    }
  }
  return assets;
}

/** Reads every stack of a cloud assembly (nested stage assemblies included), dependencies first. */
export function readCloudAssembly(assemblyDir: string): AssemblyStack[] {
  const manifest = readJson(join(assemblyDir, 'manifest.json'), 'cloud assembly manifest') as {
    artifacts?: Record<string, ManifestArtifact>;
  };
  const artifacts = manifest.artifacts ?? {};
  const ordered: AssemblyStack[] = [];
  const visited = new Set<string>();
  const visit = (id: string): void => {
    if (visited.has(id)) return;
    visited.add(id);
    const artifact = artifacts[id];
    if (!artifact) return;
    for (const dependency of artifact.dependencies ?? []) visit(dependency);
    if (artifact.type === 'cdk:cloud-assembly' && artifact.properties?.directoryName) {
      ordered.push(...readCloudAssembly(join(assemblyDir, artifact.properties.directoryName)));
      return;
    }
    if (artifact.type !== 'aws:cloudformation:stack' || !artifact.properties?.templateFile) return;
    const assetManifest = Object.entries(artifacts).find(
      ([assetId, a]) => a.type === 'cdk:asset-manifest' && (artifact.dependencies ?? []).includes(assetId),
    )?.[1].properties?.file;
    ordered.push({
      stackName: artifact.properties.stackName ?? id,
      displayName: artifact.displayName ?? id,
      template: readJson(
        join(assemblyDir, artifact.properties.templateFile),
        'stack template',
      ) as CfnTemplate,
      assemblyDir,
      fileAssets: fileAssets(assemblyDir, assetManifest),
    });
  };
  for (const id of Object.keys(artifacts)) visit(id);
  if (ordered.length === 0) throw new SynthError(`The cloud assembly in ${assemblyDir} has no stacks.`);
  return ordered;
}
