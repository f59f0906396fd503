/**
 * A user's CDK app made from scratch around the packed package: `npm pack` of this repository,
 * a temporary directory with the README's five-minute-path files, and `npm install` of the tarball
 * next to the minimum aws-cdk-lib and constructs the package declares (from the npm registry,
 * through the ordinary npm cache, so a second run downloads nothing).
 */
import { execFileSync, type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { readmeSnippets } from './readme-snippets';

export const REPO_ROOT = join(__dirname, '..', '..');

interface RepoPackageJson {
  readonly name: string;
  readonly peerDependencies: Record<string, string>;
  readonly dependencies: Record<string, string>;
  readonly devDependencies: Record<string, string>;
}

export function repoPackageJson(): RepoPackageJson {
  return JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as RepoPackageJson;
}

/** `^2.257.0` -> `2.257.0`: the lowest version a caret or >= range admits. */
export function minimumOf(range: string): string {
  const match = /^(?:\^|>=)?\s*(\d+\.\d+\.\d+)$/.exec(range.trim());
  if (!match)
    throw new Error(`Peer range "${range}" is not ^x.y.z or >=x.y.z; the test cannot tell its minimum.`);
  return match[1]!;
}

/** Runs a command, returning its result; never throws on a non-zero exit (the caller asserts). */
export function run(
  command: string,
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 600_000,
): SpawnSyncReturns<string> {
  return spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...userEnvironment(), ...env },
  });
}

/**
 * The environment a user's shell would have: without the AWS_ENDPOINT_URL_* variables jest's
 * global setup exports for the shared emulators, and without npm's script variables.
 */
export function userEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('AWS_ENDPOINT_URL') || key.startsWith('npm_') || key.startsWith('SWITCHYARD_TEST_'))
      continue;
    env[key] = value;
  }
  return env;
}

export function describeFailure(what: string, result: SpawnSyncReturns<string>): string {
  return `${what} exited ${result.status ?? result.signal}:\n${result.stdout}\n${result.stderr}`;
}

/** `npm pack` of the repository (its `prepack` script builds dist/); returns the tarball path. */
export function packRepository(destination: string): string {
  const output = execFileSync('npm', ['pack', '--json', '--pack-destination', destination], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: userEnvironment(),
    maxBuffer: 64 * 1024 * 1024,
  });
  // prepack's own output precedes the JSON array on stdout.
  const json = output.slice(output.indexOf('\n[') + 1 || output.indexOf('['));
  const [packed] = JSON.parse(json) as { filename: string }[];
  return join(destination, packed!.filename);
}

/** The tsconfig of `cdk init app --language typescript`, emitting to build/ so cdk.json runs JS. */
const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    lib: ['es2022'],
    strict: true,
    noImplicitReturns: true,
    isolatedModules: true,
    // Checked too: the package's declarations must hold up under a strict consumer.
    skipLibCheck: false,
    types: ['node'],
    outDir: 'build',
    rootDir: '.',
  },
  include: ['bin', 'lib', 'lambda', 'messages', 'snippets'],
};

export interface FreshApp {
  readonly dir: string;
  readonly tarball: string;
  readonly awsCdkLib: string;
  readonly constructs: string;
}

/** Writes the app (README snippets + package.json, tsconfig, cdk.json) and installs its dependencies. */
export function createFreshApp(tarball: string): FreshApp {
  const pkg = repoPackageJson();
  const awsCdkLib = minimumOf(pkg.peerDependencies['aws-cdk-lib']!);
  const constructs = minimumOf(pkg.peerDependencies.constructs!);
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-fresh-app-'));
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  write(
    'package.json',
    JSON.stringify(
      {
        name: 'fresh-switchyard-app',
        version: '0.0.0',
        private: true,
        // zod: the README's message schemas (a user's own validator, as the README's install line says).
        dependencies: {
          [pkg.name]: `file:${tarball}`,
          'aws-cdk-lib': awsCdkLib,
          constructs,
          zod: pkg.dependencies.zod,
        },
        devDependencies: { '@types/node': pkg.devDependencies['@types/node'] },
      },
      null,
      2,
    ),
  );
  write('tsconfig.json', JSON.stringify(TSCONFIG, null, 2));
  write('cdk.json', JSON.stringify({ app: 'node build/bin/app.js' }, null, 2));
  for (const snippet of readmeSnippets(join(REPO_ROOT, 'README.md'))) write(snippet.path, snippet.code);
  const install = run(
    'npm',
    ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'],
    dir,
  );
  if (install.status !== 0) throw new Error(describeFailure('npm install in the fresh app', install));
  return { dir, tarball, awsCdkLib, constructs };
}
