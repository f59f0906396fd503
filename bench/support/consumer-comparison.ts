/**
 * The one-type consumer against its Powertools equivalent (bench/fixtures/one-type-consumer/): both
 * bundled from a fresh app the way NodejsFunction bundles them (esbuild, cjs, node22, minified,
 * `@aws-sdk/*` left to the Lambda runtime), Switchyard from the packed package, with and without a
 * source map; then cold `require` of each in fresh Node processes, interleaved, with and without
 * `--enable-source-maps`.
 */
import { copyFileSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BuildOptions, type BuildResult, build, type Metafile } from 'esbuild';
import { measureColdLoadInterleaved } from './bundles';
import { installPackedPackage } from './packed-package';
import { median, round, type SampleSummary, summarize } from './stats';

export const CONSUMERS = ['switchyard', 'powertools'] as const;
export type Consumer = (typeof CONSUMERS)[number];

/** How a bundle is built and loaded: the source map question the constructs' default answers. */
export const SOURCE_MAP_MODES = ['no source map', 'source map', 'source map + --enable-source-maps'] as const;
export type SourceMapMode = (typeof SOURCE_MAP_MODES)[number];

export interface ConsumerBundle {
  readonly consumer: Consumer;
  readonly sourceMap: boolean;
  readonly bytes: number;
  readonly sourceMapBytes: number;
  /** Bytes in the bundle by npm package (`app code` for the fixture itself), largest first. */
  readonly byPackage: readonly { readonly name: string; readonly bytes: number }[];
  readonly outfile: string;
}

/** The schema libraries measured alone, before choosing one for the README (bench/fixtures/validators/). */
export const VALIDATORS = ['zod-classic', 'zod-mini', 'valibot'] as const;
export type Validator = (typeof VALIDATORS)[number];

export interface ValidatorFigure {
  readonly validator: Validator;
  readonly bytes: number;
  readonly load: SampleSummary;
  readonly cpu: SampleSummary;
}

export interface ColdLoadFigure {
  readonly consumer: Consumer;
  readonly mode: SourceMapMode;
  /** Wall time of the require. */
  readonly load: SampleSummary;
  /** CPU time (user + system) of the require: what a loaded machine does not inflate. */
  readonly cpu: SampleSummary;
}

export interface ConsumerComparison {
  readonly bundles: readonly ConsumerBundle[];
  readonly loads: readonly ColdLoadFigure[];
  /** Median cold require of Switchyard / of Powertools, per source map mode. */
  readonly ratios: Readonly<Record<SourceMapMode, number>>;
  /** The same per round (each round loads both), then the median: robust to load drifting over the run. */
  readonly pairedRatios: Readonly<Record<SourceMapMode, number>>;
  /** Median CPU time of the require, Switchyard / Powertools, per source map mode. */
  readonly cpuRatios: Readonly<Record<SourceMapMode, number>>;
  /**
   * Cold `require('@aws-sdk/client-dynamodb')` alone: both consumers load this client at module load
   * (for duplicate detection), so it is a floor under both figures that neither bundle controls.
   */
  readonly dynamodbClientLoad: SampleSummary;
  readonly dynamodbClientCpu: SampleSummary;
  /** (Switchyard - floor) / (Powertools - floor), median CPU times, without source maps: the bundles' own share. */
  readonly ratioAboveClientFloor: number;
  readonly validators: readonly ValidatorFigure[];
  /**
   * Switchyard's consumer with its DynamoDB client constructed at load (bench/fixtures/one-type-consumer/
   * switchyard-client-at-load.ts), SDK external, no source map: like for like with Powertools, which
   * constructs its client at load, where switchyard.ts constructs it on the first message.
   */
  readonly clientAtLoad: {
    readonly bytes: number;
    readonly load: SampleSummary;
    readonly cpu: SampleSummary;
    readonly ratio: number;
    readonly cpuRatio: number;
  };
  /** Both consumers (and the DynamoDB client alone) with the SDK bundled: the other way to deploy. */
  readonly sdkBundled: SdkBundledComparison;
}

/**
 * What both consumers keep out of an SDK-bundled build: packages they reach only through `import()`
 * and never load in this configuration, so bundling them would only add code to compile. The
 * credential providers other than the environment's (Lambda always sets AWS_ACCESS_KEY_ID & co., so
 * the default chain stops at `fromEnv`) and the clients they use; `@aws-sdk/client-s3`, which
 * Switchyard loads only when a claim-checked message arrives, and `@aws-sdk/client-sqs`, which it
 * loads only when retry backoff is on (off here). Powertools references none of them. Everything else,
 * `@smithy/*` and the DynamoDB client included, is bundled from the SDK's ES module build (mainFields
 * module first), so esbuild keeps only the commands used, as AWS's Lambda documentation recommends for
 * cold starts.
 */
export const LAZY_SDK_MODULES = [
  '@aws-sdk/credential-provider-http',
  '@aws-sdk/credential-provider-ini',
  '@aws-sdk/credential-provider-login',
  '@aws-sdk/credential-provider-process',
  '@aws-sdk/credential-provider-sso',
  '@aws-sdk/credential-provider-web-identity',
  '@aws-sdk/nested-clients',
  '@aws-sdk/token-providers',
  '@smithy/credential-provider-imds',
  '@aws-sdk/client-s3',
  '@aws-sdk/client-sqs',
] as const;

/** The consumers, Switchyard's with its client constructed at load too, and the DynamoDB client alone. */
export const SDK_BUNDLED_ENTRIES = [
  'switchyard',
  'switchyard-client-at-load',
  'powertools',
  'dynamodb-client',
] as const;
export type SdkBundledEntry = (typeof SDK_BUNDLED_ENTRIES)[number];

/** One consumer with the SDK bundled (LAZY_SDK_MODULES aside), no source map. */
export interface SdkBundledFigure {
  readonly consumer: SdkBundledEntry;
  readonly bytes: number;
  readonly load: SampleSummary;
  readonly cpu: SampleSummary;
}

export interface SdkBundledComparison {
  readonly figures: readonly SdkBundledFigure[];
  /** Median cold require, Switchyard / Powertools, both with the SDK bundled. */
  readonly ratio: number;
  readonly cpuRatio: number;
  /** The same with Switchyard's client constructed at load, as Powertools constructs its own. */
  readonly clientAtLoadRatio: number;
  readonly clientAtLoadCpuRatio: number;
}

const FIXTURES = join(__dirname, '..', 'fixtures', 'one-type-consumer');
const VALIDATOR_FIXTURES = join(__dirname, '..', 'fixtures', 'validators');

/**
 * Bundles one entry in the fresh app as NodejsFunction does for nodejs22.x (cjs, minified), resolving
 * the packed package's own dependencies and the Powertools packages from `repoNodeModules`, as npm
 * would install them; `options` adds to that (externals, source map, metafile).
 */
function bundleInApp<T extends BuildOptions>(
  appDir: string,
  repoNodeModules: string,
  entryPoint: string,
  outfile: string,
  options: T,
): Promise<BuildResult<T>> {
  // esbuild's own typing cannot see that the common options plus T are T's shape.
  const bundle = build as (options: BuildOptions) => Promise<BuildResult<T>>;
  return bundle({
    entryPoints: [entryPoint],
    absWorkingDir: appDir,
    nodePaths: [repoNodeModules],
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    minify: true,
    outfile,
    logLevel: 'silent',
    ...options,
  });
}

async function bundleValidator(appDir: string, repoNodeModules: string, validator: Validator) {
  const outfile = join(appDir, 'out', 'validators', `${validator}.js`);
  await bundleInApp(appDir, repoNodeModules, join(VALIDATOR_FIXTURES, `${validator}.ts`), outfile, {});
  return { validator, bytes: statSync(outfile).size, outfile };
}

function byPackage(metafile: Metafile): { name: string; bytes: number }[] {
  const totals = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const name = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? 'app code';
      totals.set(name, (totals.get(name) ?? 0) + bytesInOutput);
    }
  }
  return [...totals].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes);
}

async function bundleConsumer(
  appDir: string,
  repoNodeModules: string,
  consumer: Consumer,
  sourceMap: boolean,
): Promise<ConsumerBundle> {
  const outfile = join(appDir, 'out', `${consumer}${sourceMap ? '-map' : ''}`, 'index.js');
  const result = await bundleInApp(appDir, repoNodeModules, join(appDir, 'src', `${consumer}.ts`), outfile, {
    sourcemap: sourceMap,
    external: ['@aws-sdk/*'],
    metafile: true,
  });
  const inputs = Object.keys(result.metafile.inputs);
  if (consumer === 'switchyard' && !inputs.some((i) => i.includes('node_modules/switchyard-aws/dist/esm/'))) {
    throw new Error("The Switchyard consumer was not bundled from the packed package's ES module build.");
  }
  return {
    consumer,
    sourceMap,
    bytes: statSync(outfile).size,
    sourceMapBytes: sourceMap ? statSync(`${outfile}.map`).size : 0,
    byPackage: byPackage(result.metafile),
    outfile,
  };
}

/**
 * `src/<entry>.ts` bundled with the SDK inside (LAZY_SDK_MODULES aside), from its ES module build;
 * returns the output file and its size.
 */
async function bundleWithSdk(appDir: string, repoNodeModules: string, entry: string) {
  const outfile = join(appDir, 'out', 'sdk-bundled', entry, 'index.js');
  await bundleInApp(appDir, repoNodeModules, join(appDir, 'src', `${entry}.ts`), outfile, {
    mainFields: ['module', 'main'],
    external: [...LAZY_SDK_MODULES],
  });
  return { outfile, bytes: statSync(outfile).size };
}

/** Packs the repository into `appDir`, bundles both consumers both ways and measures cold loads. */
export async function compareConsumers(
  root: string,
  appDir: string,
  processes: number,
): Promise<ConsumerComparison> {
  installPackedPackage(root, appDir);
  mkdirSync(join(appDir, 'src'), { recursive: true });
  for (const file of readdirSync(FIXTURES)) copyFileSync(join(FIXTURES, file), join(appDir, 'src', file));
  const repoNodeModules = join(root, 'node_modules');

  const bundles: ConsumerBundle[] = [];
  for (const consumer of CONSUMERS) {
    for (const sourceMap of [false, true]) {
      bundles.push(await bundleConsumer(appDir, repoNodeModules, consumer, sourceMap));
    }
  }
  const validatorBundles = [];
  for (const validator of VALIDATORS)
    validatorBundles.push(await bundleValidator(appDir, repoNodeModules, validator));
  const fileOf = (consumer: Consumer, sourceMap: boolean) =>
    bundles.find((b) => b.consumer === consumer && b.sourceMap === sourceMap)!.outfile;
  const caseName = (consumer: Consumer, mode: SourceMapMode) => `${consumer}|${mode}`;
  const cases = CONSUMERS.flatMap((consumer) => [
    { name: caseName(consumer, 'no source map'), file: fileOf(consumer, false) },
    { name: caseName(consumer, 'source map'), file: fileOf(consumer, true) },
    {
      name: caseName(consumer, 'source map + --enable-source-maps'),
      file: fileOf(consumer, true),
      nodeOptions: '--enable-source-maps',
    },
  ]);
  const clientOnly = join(appDir, 'out', 'dynamodb-client', 'index.js');
  mkdirSync(join(appDir, 'out', 'dynamodb-client'), { recursive: true });
  writeFileSync(clientOnly, "require('@aws-sdk/client-dynamodb');\n");
  cases.push({ name: 'dynamodb-client', file: clientOnly });
  for (const v of validatorBundles) cases.push({ name: v.validator, file: v.outfile });
  // The DynamoDB client alone, built as both consumers use it: constructed at load, as Powertools does.
  writeFileSync(
    join(appDir, 'src', 'dynamodb-client.ts'),
    "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';\nexport const client = new DynamoDBClient({});\n",
  );
  const clientAtLoad = join(appDir, 'out', 'switchyard-client-at-load', 'index.js');
  await bundleInApp(
    appDir,
    repoNodeModules,
    join(appDir, 'src', 'switchyard-client-at-load.ts'),
    clientAtLoad,
    {
      external: ['@aws-sdk/*'],
    },
  );
  cases.push({ name: 'switchyard-client-at-load', file: clientAtLoad });
  const sdkBundles = new Map<SdkBundledEntry, { outfile: string; bytes: number }>();
  for (const entry of SDK_BUNDLED_ENTRIES) {
    sdkBundles.set(entry, await bundleWithSdk(appDir, repoNodeModules, entry));
    cases.push({ name: `sdk-bundled|${entry}`, file: sdkBundles.get(entry)!.outfile });
  }
  // The SDK is external, as on Lambda: the repository's copy stands in for the runtime's.
  const samples = measureColdLoadInterleaved(cases, { processes, nodePath: [repoNodeModules] });

  const loads: ColdLoadFigure[] = [];
  const ratios = {} as Record<SourceMapMode, number>;
  const pairedRatios = {} as Record<SourceMapMode, number>;
  const cpuRatios = {} as Record<SourceMapMode, number>;
  for (const mode of SOURCE_MAP_MODES) {
    for (const consumer of CONSUMERS) {
      const { wallMs, cpuMs } = samples.get(caseName(consumer, mode))!;
      loads.push({ consumer, mode, load: summarize(wallMs), cpu: summarize(cpuMs) });
    }
    const ours = samples.get(caseName('switchyard', mode))!;
    const theirs = samples.get(caseName('powertools', mode))!;
    ratios[mode] = round(median(ours.wallMs) / median(theirs.wallMs));
    pairedRatios[mode] = round(median(ours.wallMs.map((ms, i) => ms / theirs.wallMs[i]!)));
    cpuRatios[mode] = round(median(ours.cpuMs) / median(theirs.cpuMs));
  }
  const floor = median(samples.get('dynamodb-client')!.cpuMs);
  const above = (consumer: Consumer) =>
    median(samples.get(caseName(consumer, 'no source map'))!.cpuMs) - floor;
  const sdkSamples = (entry: SdkBundledEntry) => samples.get(`sdk-bundled|${entry}`)!;
  const sdkRatio = (ours: SdkBundledEntry, key: 'wallMs' | 'cpuMs') =>
    round(median(sdkSamples(ours)[key]) / median(sdkSamples('powertools')[key]));
  const sdkBundled: SdkBundledComparison = {
    figures: [...sdkBundles].map(([consumer, { bytes }]) => ({
      consumer,
      bytes,
      load: summarize(sdkSamples(consumer).wallMs),
      cpu: summarize(sdkSamples(consumer).cpuMs),
    })),
    ratio: sdkRatio('switchyard', 'wallMs'),
    cpuRatio: sdkRatio('switchyard', 'cpuMs'),
    clientAtLoadRatio: sdkRatio('switchyard-client-at-load', 'wallMs'),
    clientAtLoadCpuRatio: sdkRatio('switchyard-client-at-load', 'cpuMs'),
  };
  const atLoad = samples.get('switchyard-client-at-load')!;
  const powertools = samples.get(caseName('powertools', 'no source map'))!;
  return {
    clientAtLoad: {
      bytes: statSync(clientAtLoad).size,
      load: summarize(atLoad.wallMs),
      cpu: summarize(atLoad.cpuMs),
      ratio: round(median(atLoad.wallMs) / median(powertools.wallMs)),
      cpuRatio: round(median(atLoad.cpuMs) / median(powertools.cpuMs)),
    },
    sdkBundled,
    bundles,
    loads,
    ratios,
    pairedRatios,
    cpuRatios,
    dynamodbClientLoad: summarize(samples.get('dynamodb-client')!.wallMs),
    dynamodbClientCpu: summarize(samples.get('dynamodb-client')!.cpuMs),
    ratioAboveClientFloor: round(above('switchyard') / above('powertools')),
    validators: validatorBundles.map((v) => ({
      validator: v.validator,
      bytes: v.bytes,
      load: summarize(samples.get(v.validator)!.wallMs),
      cpu: summarize(samples.get(v.validator)!.cpuMs),
    })),
  };
}
