/**
 * The package as another team gets it: `npm pack` of this repository installed into a new CDK app
 * (the README's five-minute-path files) next to the minimum aws-cdk-lib and constructs the package
 * declares. The app must type-check with `tsc --strict`, synthesize with cdk-nag clean, and run its
 * consumer under `npx switchyard invoke` with an SQS event, starting its own emulators.
 */

import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import {
  createFreshApp,
  describeFailure,
  type FreshApp,
  packRepository,
  REPO_ROOT,
  repoPackageJson,
  run,
  userEnvironment,
} from './support/fresh-app';

const TSC = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const PACKAGE = repoPackageJson().name;

let app: FreshApp;

function groupAlive(groupId: number): boolean {
  try {
    process.kill(-groupId, 0);
    return true;
  } catch {
    return false;
  }
}

async function groupGoneWithin(groupId: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (groupAlive(groupId) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  return !groupAlive(groupId);
}
let packDir: string;

beforeAll(() => {
  packDir = mkdtempSync(join(tmpdir(), 'switchyard-pack-'));
  const tarball = packRepository(packDir);
  app = createFreshApp(tarball);
}, 600_000);

afterAll(() => {
  if (app) rmSync(app.dir, { recursive: true, force: true });
  if (packDir) rmSync(packDir, { recursive: true, force: true });
});

describe(`the packed ${PACKAGE} in a new CDK app on its minimum aws-cdk-lib`, () => {
  test('the tarball holds only dist, README, LICENSE and package.json', () => {
    const list = run('tar', ['tzf', app.tarball], REPO_ROOT);
    const files = list.stdout.trim().split('\n');
    const outside = files.filter(
      (f) =>
        !f.startsWith('package/dist/') &&
        !['package/README.md', 'package/LICENSE', 'package/package.json'].includes(f),
    );
    expect(outside).toEqual([]);
    expect(files).toEqual(
      expect.arrayContaining(['package/LICENSE', 'package/README.md', 'package/dist/bin/cli.js']),
    );
    expect(
      files.some((f) => f.endsWith('.test.js') || f.includes('/bench/') || f.includes('/example/')),
    ).toBe(false);
    console.log(`tarball ${(statSync(app.tarball).size / 1000).toFixed(1)} kB, ${files.length} entries`);
  });

  test('installs next to the minimum aws-cdk-lib and constructs, without a second copy', () => {
    const installed = (name: string) =>
      (
        JSON.parse(readFileSync(join(app.dir, 'node_modules', name, 'package.json'), 'utf8')) as {
          version: string;
        }
      ).version;
    expect(installed('aws-cdk-lib')).toBe(app.awsCdkLib);
    expect(installed('constructs')).toBe(app.constructs);
    const ls = run('npm', ['ls', 'aws-cdk-lib', '--all', '--parseable'], app.dir);
    expect(ls.stdout.trim().split('\n')).toEqual([join(app.dir, 'node_modules', 'aws-cdk-lib')]);
  });

  test('only the cdk and runtime entry points are reachable', () => {
    const probe = run(
      'node',
      [
        '-e',
        `for (const p of ['${PACKAGE}/cdk', '${PACKAGE}/runtime', '${PACKAGE}', '${PACKAGE}/dist/lib/index.js', '${PACKAGE}/dist/lambdas/core'])
           { try { require(p); console.log(p + ' ok'); } catch (e) { console.log(p + ' ' + e.code); } }`,
      ],
      app.dir,
    );
    expect(probe.stdout.trim().split('\n')).toEqual([
      `${PACKAGE}/cdk ok`,
      `${PACKAGE}/runtime ok`,
      `${PACKAGE} ERR_PACKAGE_PATH_NOT_EXPORTED`,
      `${PACKAGE}/dist/lib/index.js ERR_PACKAGE_PATH_NOT_EXPORTED`,
      `${PACKAGE}/dist/lambdas/core ERR_PACKAGE_PATH_NOT_EXPORTED`,
    ]);
  });

  test('the runtime entry point loads nothing from aws-cdk-lib, constructs or cdk-nag', () => {
    const probe = run(
      'node',
      [
        '-e',
        `require('${PACKAGE}/runtime');
         console.log(JSON.stringify(Object.keys(require.cache).filter((f) => /node_modules\\/(aws-cdk-lib|constructs|cdk-nag)\\//.test(f))));`,
      ],
      app.dir,
    );
    expect(probe.status).toBe(0);
    expect(JSON.parse(probe.stdout)).toEqual([]);
  });

  test('type-checks with tsc --strict, the package declarations included (skipLibCheck off)', () => {
    const tsc = run('node', [TSC, '-p', 'tsconfig.json', '--strict'], app.dir);
    expect({ status: tsc.status, output: tsc.stdout + tsc.stderr }).toEqual({ status: 0, output: '' });
  }, 300_000);

  test('type-checks under the classic CommonJS resolution too (typesVersions maps the entry points)', () => {
    // Apps made by older `cdk init` templates: module commonjs, moduleResolution node (no `exports`).
    const tsc = run(
      'node',
      [
        TSC,
        '--noEmit',
        '--strict',
        '--module',
        'commonjs',
        '--moduleResolution',
        'node',
        '--types',
        'node',
        '--skipLibCheck',
        'bin/app.ts',
      ],
      app.dir,
    );
    expect({ status: tsc.status, output: tsc.stdout + tsc.stderr }).toEqual({ status: 0, output: '' });
  }, 300_000);

  test('the consumer bundles under 60,000 bytes: SDK external, the ES module build, nothing from aws-cdk-lib', async () => {
    // As NodejsFunction bundles it for nodejs22.x (minified, as the constructs deploy it): @aws-sdk/*
    // is provided by the runtime, and nothing else is left out (not even @smithy/*).
    const outfile = join(app.dir, 'build', 'bundle-check', 'billing.js');
    const result = await build({
      entryPoints: [join(app.dir, 'lambda', 'billing.ts')],
      absWorkingDir: app.dir,
      bundle: true,
      platform: 'node',
      target: 'node22',
      format: 'cjs',
      minify: true,
      external: ['@aws-sdk/*'],
      metafile: true,
      outfile,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((f) => /node_modules\/(aws-cdk-lib|constructs|cdk-nag)\//.test(f))).toEqual([]);
    // esbuild takes the runtime's ES module build (the `module` export condition), which it can tree-shake.
    expect(inputs.some((f) => f.includes(`node_modules/${PACKAGE}/dist/esm/lambdas/`))).toBe(true);
    expect(inputs.filter((f) => f.includes(`node_modules/${PACKAGE}/dist/lambdas/`))).toEqual([]);
    const bytes = statSync(outfile).size;
    const byPackage = new Map<string, number>();
    for (const output of Object.values(result.metafile.outputs)) {
      for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
        const owner = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? 'app code';
        byPackage.set(owner, (byPackage.get(owner) ?? 0) + bytesInOutput);
      }
    }
    const shares = [...byPackage]
      .sort((a, b) => b[1] - a[1])
      .map(([owner, n]) => `${owner} ${n} B`)
      .join(', ');
    console.log(`consumer bundle ${bytes} bytes minified (@aws-sdk/* external): ${shares}`);
    // The budget of issue 13: a consumer of one message type is at most 60,000 bytes.
    expect(bytes).toBeLessThanOrEqual(60_000);
  });

  test('a CommonJS consumer that does not bundle still loads the runtime (the `default` export)', () => {
    const load = run(
      'node',
      [
        '-e',
        `const r = require('${PACKAGE}/runtime'); process.stdout.write(typeof r.createConsumer + ' ' + require.resolve('${PACKAGE}/runtime'))`,
      ],
      app.dir,
    );
    expect(load.stderr).toBe('');
    expect(load.stdout).toMatch(new RegExp(`^function .*node_modules/${PACKAGE}/dist/lambdas/index\\.js$`));
  });

  test('a plain NodejsFunction bundles a user entry importing the runtime, with no extra configuration', () => {
    writeFileSync(
      join(app.dir, 'build', 'bin', 'plain-function.js'),
      `const { App, Stack, aws_lambda: lambda, aws_lambda_nodejs: nodejs } = require('aws-cdk-lib');
       const app = new App();
       const stack = new Stack(app, 'Plain');
       new nodejs.NodejsFunction(stack, 'Billing', { entry: 'lambda/billing.ts', runtime: lambda.Runtime.NODEJS_22_X });
       app.synth();`,
    );
    const outdir = join(app.dir, 'cdk.out.plain');
    const synth = run('node', ['build/bin/plain-function.js'], app.dir, { CDK_OUTDIR: outdir });
    if (synth.status !== 0) throw new Error(describeFailure('synth of a plain NodejsFunction', synth));
    const assets = readdirSync(outdir).filter((d) => d.startsWith('asset.'));
    expect(assets).toHaveLength(1);
    const bundle = readFileSync(join(outdir, assets[0]!, 'index.js'), 'utf8');
    // NodejsFunction does not minify by default, so esbuild marks each bundled module with a
    // `// node_modules/<path>` comment: the runtime came from the installed package, aws-cdk-lib did
    // not come along, and the SDK is left to the Lambda runtime.
    expect(bundle).toMatch(/^\/\/ node_modules\/switchyard-aws\/dist\/esm\/lambdas\/consumer\//m);
    expect(bundle).not.toMatch(/^\/\/ node_modules\/(aws-cdk-lib|constructs|cdk-nag)\//m);
    expect(bundle).toMatch(/require\("@aws-sdk\/client-s[nq]s"\)/);
  }, 300_000);

  test('synthesizes with cdk-nag clean, and a finding would fail it', () => {
    const outdir = join(app.dir, 'cdk.out');
    const synth = run('node', ['build/bin/app.js'], app.dir, { CDK_OUTDIR: outdir });
    expect(synth.status).toBe(0);
    expect(synth.stdout + synth.stderr).not.toMatch(/AwsSolutions-|Serverless-|Validation failed/);
    const template = JSON.parse(readFileSync(join(outdir, 'Shop.template.json'), 'utf8')) as {
      Resources: Record<string, { Type: string }>;
    };
    const types = Object.values(template.Resources).map((r) => r.Type);
    expect(types).toEqual(
      expect.arrayContaining([
        'AWS::SNS::Topic',
        'AWS::SQS::Queue',
        'AWS::Lambda::EventSourceMapping',
        'AWS::DynamoDB::Table',
      ]),
    );
    // The control: the same app with one unencrypted queue without a DLQ must fail synthesis.
    writeFileSync(
      join(app.dir, 'build', 'bin', 'app-with-finding.js'),
      `const { App, aws_sqs: sqs } = require('aws-cdk-lib');
       const { applyNagPacks } = require('${PACKAGE}/cdk');
       const { ShopStack } = require('../lib/shop-stack');
       const app = new App();
       const stack = new ShopStack(app, 'Shop');
       new sqs.Queue(stack, 'Careless', { encryption: sqs.QueueEncryption.UNENCRYPTED });
       applyNagPacks(app);
       app.synth();`,
    );
    const failing = run('node', ['build/bin/app-with-finding.js'], app.dir, {
      CDK_OUTDIR: join(app.dir, 'cdk.out.finding'),
      // Bundling is not what this control checks.
      CDK_CONTEXT_JSON: JSON.stringify({ 'aws:cdk:bundling-stacks': [] }),
    });
    expect(failing.status).not.toBe(0);
    expect(failing.stdout + failing.stderr).toMatch(/AwsSolutions-SQS\d/);
  }, 300_000);

  test('its consumer runs under npx switchyard invoke with an SQS event', () => {
    const sample = JSON.parse(
      readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'events', 'sqs-raw-switchyard.json'), 'utf8'),
    ) as { Records: unknown[] };
    // The first record is an OrderPlaced event (raw delivery, Switchyard headers as attributes).
    writeFileSync(join(app.dir, 'sqs-event.json'), JSON.stringify({ Records: [sample.Records[0]] }));
    const invoke = run(
      'npx',
      ['--no', 'switchyard', 'invoke', 'Billing', '--event', 'sqs-event.json'],
      app.dir,
      {},
      300_000,
    );
    if (invoke.status !== 0) throw new Error(describeFailure('npx switchyard invoke', invoke));
    expect(JSON.parse(invoke.stdout)).toEqual({ batchItemFailures: [] });
    expect(invoke.stderr).toMatch(/Invoking \S*Billing/);
    const charged = invoke.stderr.split('\n').find((line) => line.includes('"charging"'));
    expect(charged).toBeDefined();
    expect(charged).toContain('"orderId":"o-1"');
  }, 300_000);

  test('npx switchyard local deploys the app, prints its endpoints and resources, and stays up until Ctrl-C', async () => {
    // Its own process group, so Ctrl-C reaches npx and the CLI it runs, as in a terminal.
    const local = spawn('npx', ['--no', 'switchyard', 'local'], {
      cwd: app.dir,
      env: userEnvironment(),
      detached: true,
    });
    let output = '';
    local.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    local.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => local.on('exit', (code) => resolve(code)));
    let done = false;
    void exited.then(() => {
      done = true;
    });
    try {
      const up = await new Promise<boolean>((resolve) => {
        const poll = setInterval(() => {
          if (output.includes('Press Ctrl-C to stop') || done) {
            clearInterval(poll);
            resolve(!done);
          }
        }, 200);
      });
      if (!up) throw new Error(`switchyard local exited before it was up:\n${output}`);
      expect(output).toContain('not the food-delivery example');
      expect(output).toMatch(/export AWS_ENDPOINT_URL_SQS=http:\/\/127\.0\.0\.1:\d+/);
      expect(output).toMatch(/export AWS_ENDPOINT_URL_DYNAMODB=http:\/\/127\.0\.0\.1:\d+/);
      // Channel topics get generated names (<stack>-<construct id><hash>) unless the app fixes one.
      expect(output).toMatch(/^topic +Shop-Orders[0-9A-F]{8} /m);
      expect(output).toMatch(/^function +\S+ +\(\S*Billing\S*\)/m);
      process.kill(-local.pid!, 'SIGINT');
      await exited;
      // Ctrl-C stops the workers and the emulators (DynamoDB Local is a Java child): nothing of the
      // process group is left running.
      expect(await groupGoneWithin(local.pid!, 20_000)).toBe(true);
      expect(output).toContain('SIGINT: shutting down');
    } finally {
      // A failed assertion must not leave the emulators of this run behind.
      if (groupAlive(local.pid!)) process.kill(-local.pid!, 'SIGKILL');
    }
  }, 300_000);
});
