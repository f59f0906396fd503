/**
 * `switchyard invoke` against a tiny CDK project written by the test (cdk.json + a plain-JS app
 * with one asset function), deployed into the shared emulators through the endpoint options.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { App, aws_dynamodb as dynamodb, aws_lambda as lambda, Stack } from 'aws-cdk-lib';
import { main } from '../bin/cli';
import { dynamodbEndpoint, snsSqsEndpoint, uniqueName } from './support/emulators';

function captured() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, output: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
}

const stackName = uniqueName('CliTest');

/** The same app, synthesized in-process: the cases that do not test synthesis skip the child process. */
function synthesizeInProcess(handlers: string): string {
  const outdir = mkdtempSync(join(tmpdir(), 'switchyard-cli-test-out-'));
  const app = new App({ outdir });
  const stack = new Stack(app, stackName);
  const table = new dynamodb.Table(stack, 'Items', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
  });
  for (const id of ['Echo', 'Other']) {
    new lambda.Function(stack, id, {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'echo.handler',
      code: lambda.Code.fromAsset(handlers),
      environment: { TABLE: table.tableName },
    });
  }
  app.synth();
  return outdir;
}

function writeProject(): string {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-cli-test-'));
  const cdkLib = dirname(require.resolve('aws-cdk-lib/package.json'));
  mkdirSync(join(dir, 'handlers'));
  writeFileSync(
    join(dir, 'handlers', 'echo.js'),
    `exports.handler = async (event, context) => {
       console.log('echo got', JSON.stringify(event));
       if (event.fail) throw new Error('asked to fail');
       return { echoed: event, table: process.env.TABLE, fn: context.functionName };
     };`,
  );
  writeFileSync(
    join(dir, 'app.js'),
    `const cdk = require(${JSON.stringify(cdkLib)});
     const app = new cdk.App();
     const stack = new cdk.Stack(app, ${JSON.stringify(stackName)});
     const table = new cdk.aws_dynamodb.Table(stack, 'Items', { partitionKey: { name: 'pk', type: cdk.aws_dynamodb.AttributeType.STRING } });
     for (const id of ['Echo', 'Other']) {
       new cdk.aws_lambda.Function(stack, id, {
         runtime: cdk.aws_lambda.Runtime.NODEJS_22_X,
         handler: 'echo.handler',
         code: cdk.aws_lambda.Code.fromAsset(${JSON.stringify(join(dir, 'handlers'))}),
         environment: { TABLE: table.tableName },
       });
     }
     app.synth();`,
  );
  writeFileSync(join(dir, 'cdk.json'), JSON.stringify({ app: 'node app.js', context: {} }));
  return dir;
}

describe('switchyard invoke', () => {
  const project = writeProject();
  const endpoints = ['--sns-sqs-endpoint', snsSqsEndpoint(), '--dynamodb-endpoint', dynamodbEndpoint()];
  const eventFile = join(project, 'event.json');
  writeFileSync(eventFile, JSON.stringify({ hello: 'world' }));
  const assembly = synthesizeInProcess(join(project, 'handlers'));

  test('synthesizes, deploys and runs the named function with the event file', async () => {
    const { out, err, output } = captured();
    const code = await main(
      ['invoke', 'Echo', '--event', eventFile, '--app-dir', project, ...endpoints],
      output,
    );
    expect(code).toBe(0);
    const response = JSON.parse(out.join('\n'));
    expect(response.echoed).toEqual({ hello: 'world' });
    expect(response.table).toMatch(/CliTest.*-Items/);
    expect(err.join('\n')).toMatch(/echo got \{"hello":"world"\}/);
    expect(err.join('\n')).toMatch(/REPORT RequestId: /);
  });

  test('exits 1 and prints the error when the function fails', async () => {
    const failing = join(project, 'fail.json');
    writeFileSync(failing, JSON.stringify({ fail: true }));
    const { out, output } = captured();
    const code = await main(['invoke', 'Other', '-e', failing, '--assembly', assembly, ...endpoints], output);
    expect(code).toBe(1);
    expect(JSON.parse(out.join('\n'))).toMatchObject({ errorMessage: 'asked to fail' });
  });

  test('fails for an unknown function and lists the available ones', async () => {
    const { err, output } = captured();
    const code = await main(
      ['invoke', 'Nope', '--event', eventFile, '--assembly', assembly, ...endpoints],
      output,
    );
    expect(code).toBe(1);
    expect(err.join('\n')).toMatch(
      /No function matches "Nope"[\s\S]*Available:[\s\S]*- Echo[A-F0-9]*[\s\S]*- Other/,
    );
  });

  test('fails fast for a missing or invalid event file', async () => {
    const { err, output } = captured();
    expect(
      await main(['invoke', 'Echo', '--event', join(project, 'missing.json'), '--app-dir', project], output),
    ).toBe(1);
    const bad = join(project, 'bad.json');
    writeFileSync(bad, '{ not json');
    expect(await main(['invoke', 'Echo', '--event', bad, '--app-dir', project], output)).toBe(1);
    expect(err.join('\n')).toMatch(/Cannot read the event file .*missing\.json: no such file/);
    expect(err.join('\n')).toMatch(/bad\.json: not valid JSON/);
  });

  test('fails for half-given endpoints and for a directory without cdk.json', async () => {
    const { err, output } = captured();
    expect(
      await main(
        ['invoke', 'Echo', '--sns-sqs-endpoint', 'http://127.0.0.1:1', '--app-dir', project],
        output,
      ),
    ).toBe(1);
    expect(await main(['invoke', 'Echo', '--app-dir', tmpdir(), ...endpoints], output)).toBe(1);
    expect(err.join('\n')).toMatch(/both --sns-sqs-endpoint and --dynamodb-endpoint/);
    expect(err.join('\n')).toMatch(/No cdk.json in/);
  });

  test('local refuses an unknown --isolation before starting anything', async () => {
    const { err, output } = captured();
    expect(await main(['local', '--isolation', 'process', '--app-dir', tmpdir()], output)).toBe(2);
    expect(err.join('\n')).toMatch(/"process" is not an isolation: use 'shared' or 'thread'/);
  });
});
