/**
 * `switchyard invoke` finds a running `switchyard local --keep` cloud of the same app (through the
 * state file --keep writes) and runs the function there: same tables, same role credentials,
 * no second deployment.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { App, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { main } from '../bin/cli';
import { type LocalSession, sessionFile } from '../local/session';
import { uniqueName } from './support/emulators';

const tableName = uniqueName('kept-items');

function synthesize(): string {
  const outdir = mkdtempSync(join(tmpdir(), 'switchyard-keep-'));
  const app = new App({ outdir });
  const stack = new Stack(app, uniqueName('KeptApp'));
  const table = new dynamodb.Table(stack, 'Items', {
    tableName,
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
  });
  const writer = new lambda.Function(stack, 'Writer', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    environment: { TABLE: table.tableName },
    code: lambda.Code.fromInline(`
const { DynamoDBClient, PutItemCommand } = require('@aws-sdk/client-dynamodb');
const client = new DynamoDBClient({});
exports.handler = async (event) => {
  await client.send(new PutItemCommand({ TableName: process.env.TABLE, Item: { pk: { S: event.id } } }));
  return { stored: event.id };
};`),
  });
  table.grantWriteData(writer);
  app.synth();
  return outdir;
}

let keep: ChildProcess | undefined;
const appDir = mkdtempSync(join(tmpdir(), 'switchyard-keep-app-'));

afterAll(() => {
  keep?.kill('SIGTERM');
});

test('invoke runs the function in the running --keep cloud, which then holds its write', async () => {
  const assembly = synthesize();
  keep = spawn(
    process.execPath,
    [
      '-r',
      'ts-node/register/transpile-only',
      'bin/cli.ts',
      'local',
      '--keep',
      '--assembly',
      assembly,
      '--app-dir',
      appDir,
    ],
    { cwd: join(__dirname, '..'), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  await new Promise<void>((resolve, reject) => {
    keep!.stdout!.on('data', (d) => {
      output += d;
      if (output.includes('Local cloud running')) resolve();
    });
    keep!.stderr!.on('data', (d) => {
      output += d;
    });
    keep!.once('exit', (code) => reject(new Error(`local --keep exited with ${code}:\n${output}`)));
  });
  const state = JSON.parse(readFileSync(sessionFile(appDir), 'utf8')) as LocalSession;

  const eventFile = join(appDir, 'event.json');
  writeFileSync(eventFile, JSON.stringify({ id: 'kept-1' }));
  const err: string[] = [];
  const out: string[] = [];
  const code = await main(['invoke', 'Writer', '--event', eventFile, '--app-dir', appDir], {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  });
  expect(err.join('\n')).toContain(`in the running local cloud at ${state.endpoints.snsSqs}`);
  expect(code).toBe(0);
  expect(JSON.parse(out.join('\n'))).toEqual({ stored: 'kept-1' });

  const client = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: state.endpoints.snsSqs,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    const item = await client.send(
      new GetItemCommand({ TableName: tableName, Key: { pk: { S: 'kept-1' } } }),
    );
    expect(item.Item?.pk?.S).toBe('kept-1');
  } finally {
    client.destroy();
  }

  keep.kill('SIGTERM');
  await new Promise((resolve) => keep!.once('exit', resolve));
  keep = undefined;
  expect(existsSync(sessionFile(appDir))).toBe(false);
}, 120_000);
