/**
 * `switchyard invoke` on the example system's functions with every sample event: the project's
 * own fixtures always, and the shared AWS samples (../shared/aws-events) when that folder exists.
 * The example app is synthesized once in-process; each invoke deploys it into the shared emulators.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { App } from 'aws-cdk-lib';
import { main } from '../bin/cli';
import { FoodDeliveryStack } from '../example/food-delivery-stack';
import { dynamodbEndpoint, snsSqsEndpoint, uniqueName } from './support/emulators';

const ownEvents = resolve(__dirname, 'fixtures', 'events');
const sharedEvents = resolve(__dirname, '..', '..', 'shared', 'aws-events');

interface Sample {
  readonly name: string;
  readonly file: string;
  readonly source: string;
  readonly recordIds: string[];
}

/** The SAM sample carries mustache placeholders; substitute them as `sam local generate-event` would. */
function loadSample(dir: string, name: string, scratch: string): Sample {
  const text = readFileSync(join(dir, name), 'utf8')
    .replaceAll('{{{region}}}', 'us-east-1')
    .replaceAll('{{{partition}}}', 'aws')
    .replaceAll('{{{account_id}}}', '123456789012')
    .replaceAll('{{{table}}}', 'Example');
  // Own fixtures and shared samples share some names: keep them apart.
  const file = join(mkdtempSync(join(scratch, 'sample-')), name);
  writeFileSync(file, text);
  const records = (JSON.parse(text) as { Records: Record<string, unknown>[] }).Records;
  return {
    name,
    file,
    source: String(records[0]?.eventSource ?? records[0]?.EventSource),
    recordIds: records.map((r) => String(r.messageId)),
  };
}

function samples(scratch: string): Sample[] {
  const from = (dir: string) =>
    readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => loadSample(dir, f, scratch));
  return [...from(ownEvents), ...(existsSync(sharedEvents) ? from(sharedEvents) : [])];
}

describe('switchyard invoke on the example system', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'switchyard-invoke-samples-'));
  const all = samples(scratch);
  const endpoints = ['--sns-sqs-endpoint', snsSqsEndpoint(), '--dynamodb-endpoint', dynamodbEndpoint()];
  let assembly = '';

  beforeAll(() => {
    assembly = mkdtempSync(join(tmpdir(), 'switchyard-example-assembly-'));
    const app = new App({ outdir: assembly });
    new FoodDeliveryStack(app, uniqueName('SwitchyardFoodDelivery'));
    app.synth();
  }, 180_000);

  async function invoke(fn: string, file: string) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(['invoke', fn, '--event', file, '--assembly', assembly, ...endpoints], {
      out: (l) => out.push(l),
      err: (l) => err.push(l),
    });
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  const sqs = all.filter((s) => s.source === 'aws:sqs');
  test.each(sqs.map((s) => [s.name, s] as const))(
    'order-history consumer answers %s with the right batchItemFailures',
    async (_name, sample) => {
      const { code, out, err } = await invoke('OrderHistory', sample.file);
      expect({ code, err: code === 0 ? '' : err }).toEqual({ code: 0, err: '' });
      const response = JSON.parse(out) as { batchItemFailures: { itemIdentifier: string }[] };
      // None of these samples is an OrderCreated/OrderApproved message for this consumer: each
      // record fails (and so would reach the DLQ by redrive), none is silently acknowledged.
      expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(sample.recordIds);
    },
    120_000,
  );

  const streams = all.filter((s) => s.source === 'aws:dynamodb');
  test.each(streams.map((s) => [s.name, s] as const))(
    'outbox relay accepts %s (no outbox messages in it: nothing to publish, nothing failed)',
    async (_name, sample) => {
      const { code, out } = await invoke('OrderOutboxRelay', sample.file);
      expect(code).toBe(0);
      expect(JSON.parse(out)).toMatchObject({ batchItemFailures: [] });
    },
    120_000,
  );

  const others = all.filter((s) => s.source !== 'aws:sqs' && s.source !== 'aws:dynamodb');
  test.each(others.map((s) => [s.name, s] as const))(
    'a consumer given %s fails with a message naming the wiring mistake',
    async (_name, sample) => {
      const { code, out } = await invoke('OrderHistory', sample.file);
      expect(code).toBe(1);
      expect(out).toMatch(/handles SQS events, but received a record from aws:sns/);
    },
    120_000,
  );

  test('covers every sample', () => {
    expect(sqs.length + streams.length + others.length).toBe(all.length);
    expect(sqs.length).toBeGreaterThanOrEqual(7);
  });
});
