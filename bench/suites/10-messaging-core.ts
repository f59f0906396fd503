/**
 * Messaging core figures: SNS/SQS requests and wall time per 1,000 messages (one call per message
 * vs batched), and each Lambda bundle's size and cold module-load time.
 */

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { buildMessage, type Message } from '../../lambdas/core';
import { assertAllSent, createProducer, type MessageProducer } from '../../lambdas/producer';
import type { BenchContext, BenchSuite, BenchTable } from '../suite';
import {
  type BundleFigures,
  type BundleVariant,
  bundleEntry,
  functionEntries,
  measureColdLoad,
} from '../support/bundles';
import {
  type ConsumerComparison,
  compareConsumers,
  LAZY_SDK_MODULES,
  type SdkBundledEntry,
} from '../support/consumer-comparison';
import { countRequests, type RequestCounter } from '../support/request-counter';
import { round, type SampleSummary } from '../support/stats';

const MESSAGES = 1_000;
const LOAD_PROCESSES = 20;
/** Rounds of the interleaved one-type consumer comparison (each round loads every case once). */
const COMPARISON_ROUNDS = 30;
/** What the constructs deploy by default (lib/service-function.ts): no source map, no --enable-source-maps. */
const DEFAULT_MODE = 'no source map';

/** Message sizes to compare: a typical small event, and one large enough that 256 KiB binds first. */
const PAYLOADS = [
  { label: 'small', paddingBytes: 200 },
  { label: 'large (40 KiB)', paddingBytes: 40 * 1024 },
] as const;

type Channel = 'SNS publish' | 'SQS send';
type Mode = 'one call per message' | 'batched';

interface RequestCase {
  readonly channel: Channel;
  readonly payload: string;
  readonly payloadBytes: number;
  readonly headerAttributes: number;
  readonly mode: Mode;
  readonly messages: number;
  readonly requests: number;
  /** What the producer's BatchResult says it sent (batched only). */
  readonly producerRequests?: number;
  readonly wallMs: number;
}

const uniqueName = (base: string) => `bench-${base}-${randomBytes(4).toString('hex')}`;

function orderEvents(count: number, paddingBytes: number): Message[] {
  return Array.from({ length: count }, (_, i) =>
    buildMessage(
      'OrderPlaced',
      'event',
      { orderId: `o-${i}`, customerId: `c-${i % 97}`, total: 12.5 + i, notes: 'x'.repeat(paddingBytes) },
      { partitionKey: `o-${i}`, source: 'bench' },
    ),
  );
}

async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
  );
  return Number(Attributes?.ApproximateNumberOfMessages ?? 0);
}

/** A topic with one raw-delivery queue subscribed (so publishing does real fan-out), or a queue. */
async function freshDestination(
  channel: Channel,
  sns: SNSClient,
  sqs: SQSClient,
): Promise<{ address: string; queueUrl: string }> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('queue') }));
  const queueUrl = QueueUrl!;
  if (channel === 'SQS send') return { address: queueUrl, queueUrl };
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: uniqueName('topic') }));
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  await sns.send(
    new SubscribeCommand({
      TopicArn,
      Protocol: 'sqs',
      Endpoint: Attributes!.QueueArn!,
      Attributes: { RawMessageDelivery: 'true' },
    }),
  );
  return { address: TopicArn!, queueUrl };
}

async function sendAll(
  producer: MessageProducer,
  channel: Channel,
  mode: Mode,
  address: string,
  messages: readonly Message[],
): Promise<number | undefined> {
  if (mode === 'batched') {
    const result =
      channel === 'SNS publish'
        ? await producer.publishBatch(address, messages)
        : await producer.sendBatch(address, messages);
    assertAllSent(result);
    return result.requests;
  }
  // The naive baseline: one awaited call after another, as a loop in a handler would do.
  for (const message of messages) {
    if (channel === 'SNS publish') await producer.publish(address, message);
    else await producer.send(address, message);
  }
  return undefined;
}

async function measureRequestCase(
  context: BenchContext,
  clients: { sns: SNSClient; sqs: SQSClient; counter: RequestCounter; admin: SQSClient },
  channel: Channel,
  payload: (typeof PAYLOADS)[number],
  mode: Mode,
): Promise<RequestCase> {
  const { address, queueUrl } = await freshDestination(channel, clients.sns, clients.sqs);
  const messages = orderEvents(MESSAGES, payload.paddingBytes);
  const producer = createProducer({ sns: clients.sns, sqs: clients.sqs });
  clients.counter.reset();
  const started = performance.now();
  const producerRequests = await sendAll(producer, channel, mode, address, messages);
  const wallMs = performance.now() - started;
  const requests = clients.counter.count;
  // A figure only counts if every message arrived.
  const delivered = await queueDepth(clients.admin, queueUrl);
  if (delivered !== MESSAGES) {
    throw new Error(`${channel} ${mode}: ${delivered} of ${MESSAGES} messages reached the queue.`);
  }
  const first = messages[0]!;
  const payloadBytes = Buffer.byteLength(JSON.stringify(first.payload));
  const headerAttributes = Object.keys(first.headers).length;
  context.log(`${channel}, ${payload.label}, ${mode}: ${requests} requests, ${Math.round(wallMs)} ms`);
  return {
    channel,
    payload: payload.label,
    payloadBytes,
    headerAttributes,
    mode,
    messages: MESSAGES,
    requests,
    producerRequests,
    wallMs,
  };
}

async function measureRequests(context: BenchContext): Promise<RequestCase[]> {
  const sns = new SNSClient({});
  // The emulator's queue URLs name the host sqs.<region>.localhost, which need not resolve; keep
  // every request on the configured endpoint (AWS_ENDPOINT_URL_SQS) instead.
  const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
  const counter = countRequests(sns, sqs);
  // Set-up and delivery checks go through a separate client so they are not counted.
  const admin = new SQSClient({ useQueueUrlAsEndpoint: false });
  const cases: RequestCase[] = [];
  try {
    for (const payload of PAYLOADS) {
      for (const channel of ['SNS publish', 'SQS send'] as const) {
        for (const mode of ['one call per message', 'batched'] as const) {
          cases.push(await measureRequestCase(context, { sns, sqs, counter, admin }, channel, payload, mode));
        }
      }
    }
  } finally {
    sns.destroy();
    sqs.destroy();
    admin.destroy();
  }
  return cases;
}

type BundleCase =
  | {
      readonly function: string;
      readonly variant: BundleVariant;
      readonly bundle: BundleFigures;
      readonly load: SampleSummary;
    }
  | { readonly function: string; readonly variant: BundleVariant; readonly error: string };

const variantLabel = (variant: BundleVariant) =>
  variant === 'deployed' ? 'deployed (SDK external)' : 'fully bundled';

async function measureBundles(
  context: BenchContext,
  entries: readonly string[],
  outDir: string,
): Promise<BundleCase[]> {
  const cases: BundleCase[] = [];
  for (const entry of entries) {
    for (const variant of ['deployed', 'full'] as const) {
      const name = basename(entry, '.ts');
      try {
        const bundle = await bundleEntry(entry, variant, outDir);
        // Deployed bundles leave the SDK to the runtime; here the repository's copy stands in for it.
        const load = measureColdLoad(bundle.outfile, {
          processes: LOAD_PROCESSES,
          nodePath: variant === 'deployed' ? [join(context.root, 'node_modules')] : undefined,
        });
        context.log(`${name} (${variant}): ${bundle.bytes} bytes, load median ${load.medianMs} ms`);
        cases.push({ function: name, variant, bundle, load });
      } catch (error) {
        // One entry that does not build or load is reported in its row; the other figures stand.
        const message = (error instanceof Error ? error.message : String(error))
          .split('\n')[0]!
          .slice(0, 300);
        context.log(`${name} (${variant}) FAILED: ${message}`);
        cases.push({ function: name, variant, error: message });
      }
    }
  }
  return cases;
}

function requestTable(cases: readonly RequestCase[]): BenchTable {
  return {
    title: `SNS/SQS requests per ${MESSAGES.toLocaleString('en-US')} messages`,
    columns: ['channel', 'payload', 'payload bytes', 'mode', 'requests', 'ms per 1,000', 'messages/s'],
    rows: cases.map((c) => [
      c.channel,
      c.payload,
      c.payloadBytes,
      c.mode,
      c.requests,
      Math.round(c.wallMs),
      Math.round((c.messages / c.wallMs) * 1000),
    ]),
    notes:
      'Requests are counted by an SDK middleware below the retry layer (retries count). One call per ' +
      'message awaits each Publish/SendMessage in turn; batched uses PublishBatch/SendMessageBatch, chunked ' +
      `by 10 entries and 256 KiB. Every message carries ${cases[0]?.headerAttributes ?? 0} header attributes. ` +
      'Wall time is against the ' +
      'local emulator on loopback (SNS fans out to one subscribed queue), so it shows the relative cost ' +
      'of round trips, not AWS latency.',
  };
}

function bundleTable(cases: readonly BundleCase[], baseline: SampleSummary, entriesDir: string): BenchTable {
  return {
    title: 'Lambda bundles: size and cold module-load time',
    columns: [
      'function',
      'bundle',
      'bytes',
      'source map bytes',
      'largest input',
      'load median ms',
      'load min-max ms',
    ],
    rows: [
      ...cases.map((c) =>
        'error' in c
          ? [c.function, variantLabel(c.variant), '-', '-', '-', '-', `FAILED: ${c.error}`]
          : [
              c.function,
              variantLabel(c.variant),
              c.bundle.bytes,
              c.bundle.sourceMapBytes,
              `${c.bundle.largestInput.name} (${c.bundle.largestInput.bytes.toLocaleString('en-US')} B)`,
              c.load.medianMs,
              `${c.load.minMs}-${c.load.maxMs}`,
            ],
      ),
      ['(empty module)', 'baseline', 0, 0, '-', baseline.medianMs, `${baseline.minMs}-${baseline.maxMs}`],
    ],
    notes:
      `Each entry in ${entriesDir} bundled with esbuild as NodejsFunction deploys it (node22, cjs, minified, ` +
      'no source map). "Deployed" leaves @aws-sdk/* and @smithy/* to the Lambda runtime (loaded here from the ' +
      'repository\'s node_modules); "fully bundled" includes them. Load time is the median over ' +
      `${LOAD_PROCESSES} fresh Node processes of require() of the bundle alone (Node start-up excluded).` +
      (cases.length === 0 ? ' No function entries exist yet.' : ''),
  };
}

const SDK_BUNDLED_LABELS: Readonly<Record<SdkBundledEntry, string>> = {
  switchyard: 'switchyard',
  'switchyard-client-at-load': 'switchyard, client constructed at load',
  powertools: 'powertools',
  'dynamodb-client': '@aws-sdk/client-dynamodb alone, client constructed at load',
};

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

function comparisonTables(comparison: ConsumerComparison): BenchTable[] {
  const bundleRows = comparison.bundles.map((b) => [
    b.consumer,
    b.sourceMap ? 'with source map' : 'no source map',
    b.bytes,
    b.sourceMapBytes,
    b.byPackage
      .slice(0, 4)
      .map((p) => `${p.name} ${kib(p.bytes)}`)
      .join(', '),
  ]);
  const loadRows = comparison.loads.map((l) => [
    l.consumer,
    l.mode,
    l.load.medianMs,
    `${l.load.minMs}-${l.load.maxMs}`,
    l.cpu.medianMs,
    l.consumer === 'switchyard' ? comparison.ratios[l.mode] : '-',
    l.consumer === 'switchyard' ? comparison.pairedRatios[l.mode] : '-',
    l.consumer === 'switchyard' ? comparison.cpuRatios[l.mode] : '-',
  ]);
  const floor = comparison.dynamodbClientLoad;
  const floorCpu = comparison.dynamodbClientCpu;
  return [
    {
      title: 'One-type consumer vs Powertools: bundle bytes',
      columns: ['consumer', 'build', 'bytes', 'source map bytes', 'largest inputs'],
      rows: bundleRows,
      notes:
        'bench/fixtures/one-type-consumer/: one message type (zod/mini schema), duplicate detection in DynamoDB ' +
        '(Switchyard `marker`, Powertools idempotency), one log line, ReportBatchItemFailures. Bundled in a fresh ' +
        'app with esbuild as NodejsFunction does (cjs, node22, minified, @aws-sdk/* external, nothing else), ' +
        'Switchyard from `npm pack` of this repository.',
    },
    {
      title: 'One-type consumer vs Powertools: cold require',
      columns: [
        'consumer',
        'source maps',
        'median ms',
        'min-max ms',
        'CPU median ms',
        'ratio of medians',
        'median of paired ratios',
        'CPU ratio',
      ],
      rows: [
        ...loadRows,
        [
          'switchyard, client constructed at load',
          'no source map',
          comparison.clientAtLoad.load.medianMs,
          `${comparison.clientAtLoad.load.minMs}-${comparison.clientAtLoad.load.maxMs}`,
          comparison.clientAtLoad.cpu.medianMs,
          comparison.clientAtLoad.ratio,
          '-',
          comparison.clientAtLoad.cpuRatio,
        ],
        [
          '@aws-sdk/client-dynamodb alone',
          'no source map',
          floor.medianMs,
          `${floor.minMs}-${floor.maxMs}`,
          floorCpu.medianMs,
          '-',
          '-',
          '-',
        ],
      ],
      notes:
        `${COMPARISON_ROUNDS} rounds; each round loads every row once in a fresh Node process, in rotating order, so ` +
        'machine load falls on all rows alike. The SDK is external and loaded from the repository (as the Lambda ' +
        'runtime provides it). Both consumers load @aws-sdk/client-dynamodb at module load; its own cold require ' +
        'is the last row. CPU time (user + system of the whole process during the require) is not inflated by ' +
        'waiting for a core, so on a loaded machine its ratio is the steadier one. ' +
        "Switchyard's fixture constructs its DynamoDB client on the first message, Powertools at load; the " +
        '"client constructed at load" row (bench/fixtures/one-type-consumer/switchyard-client-at-load.ts) is the ' +
        'like-for-like one (the first invocation is that much shorter in exchange). ' +
        `Bundles' own share of CPU time, (Switchyard - client) / (Powertools - client): ` +
        `${comparison.ratioAboveClientFloor}.`,
    },
    {
      title: 'One-type consumer vs Powertools: cold require with the SDK bundled into both',
      columns: [
        'bundle',
        'bytes',
        'median ms',
        'min-max ms',
        'CPU median ms',
        'ratio of medians',
        'CPU ratio',
      ],
      rows: comparison.sdkBundled.figures.map((f) => [
        SDK_BUNDLED_LABELS[f.consumer],
        f.bytes,
        f.load.medianMs,
        `${f.load.minMs}-${f.load.maxMs}`,
        f.cpu.medianMs,
        f.consumer === 'switchyard'
          ? comparison.sdkBundled.ratio
          : f.consumer === 'switchyard-client-at-load'
            ? comparison.sdkBundled.clientAtLoadRatio
            : '-',
        f.consumer === 'switchyard'
          ? comparison.sdkBundled.cpuRatio
          : f.consumer === 'switchyard-client-at-load'
            ? comparison.sdkBundled.clientAtLoadCpuRatio
            : '-',
      ]),
      notes:
        "Not what the constructs deploy (they leave @aws-sdk/* to the runtime, and the local cloud's fault " +
        'injection patches that shared copy): the other deployment, measured in the same interleaved rounds. ' +
        "Both consumers bundled with esbuild from the SDK's ES module build (mainFields module, main), so only the " +
        'commands used are kept, minified, no source map; left external because they are reached only through ' +
        `import(): ${LAZY_SDK_MODULES.join(', ')}. Switchyard's fixture constructs its DynamoDB client on the ` +
        'first message, Powertools at load; the client-at-load row is the like-for-like one.',
    },
    {
      title: 'Validators alone: the one-type schema, bundled and loaded',
      columns: ['validator', 'bytes', 'cold require median ms', 'min-max ms', 'CPU median ms'],
      rows: comparison.validators.map((v) => [
        v.validator,
        v.bytes,
        v.load.medianMs,
        `${v.load.minMs}-${v.load.maxMs}`,
        v.cpu.medianMs,
      ]),
      notes:
        'bench/fixtures/validators/: z.object({ orderId: string, total: number }) and its Standard Schema validate, ' +
        'bundled as above (esbuild takes the ES module builds of all three), loaded in the same interleaved rounds.',
    },
  ];
}

export const suite: BenchSuite = {
  name: 'messaging-core',
  description:
    'SNS/SQS requests and wall time per 1,000 messages (one call per message vs batched); Lambda bundle sizes and cold module-load times.',
  async run(context) {
    const requestCases = await measureRequests(context);

    const entriesDir = join(context.root, 'example', 'functions');
    const outDir = mkdtempSync(join(tmpdir(), 'switchyard-bench-bundles-'));
    let bundleCases: BundleCase[];
    let baseline: SampleSummary;
    let comparison: ConsumerComparison;
    try {
      bundleCases = await measureBundles(context, functionEntries(entriesDir), outDir);
      // What require() costs for a module that does nothing: the floor under every bundle's figure.
      const empty = join(outDir, 'empty.js');
      writeFileSync(empty, '');
      baseline = measureColdLoad(empty, { processes: LOAD_PROCESSES });
      context.log('one-type consumer vs Powertools: packing the repository and bundling both');
      comparison = await compareConsumers(context.root, join(outDir, 'one-type-consumer'), COMPARISON_ROUNDS);
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
    const consumerBundle = comparison.bundles.find((b) => b.consumer === 'switchyard' && !b.sourceMap)!;
    context.log(
      `one-type consumer ${consumerBundle.bytes} bytes; cold require ratio to Powertools ${comparison.ratios[DEFAULT_MODE]} ` +
        `(CPU time ${comparison.cpuRatios[DEFAULT_MODE]})`,
    );

    return {
      figures: {
        messagesPerCase: MESSAGES,
        requests: requestCases.map((c) => ({ ...c, wallMs: round(c.wallMs, 1) })),
        bundles: bundleCases.map((c) =>
          'error' in c
            ? c
            : {
                function: c.function,
                variant: c.variant,
                bytes: c.bundle.bytes,
                sourceMapBytes: c.bundle.sourceMapBytes,
                largestInput: c.bundle.largestInput,
                load: c.load,
              },
        ),
        emptyModuleLoad: baseline,
        /** The one-type consumer (bench/fixtures/one-type-consumer), SDK external, as the constructs deploy it. */
        consumerBundleBytes: consumerBundle.bytes,
        /** Median cold require of the one-type consumer / of its Powertools equivalent, same run, interleaved. */
        coldLoadRatioToPowertools: comparison.ratios[DEFAULT_MODE],
        /** The same with CPU time instead of wall time (steadier on a loaded machine). */
        coldLoadCpuRatioToPowertools: comparison.cpuRatios[DEFAULT_MODE],
        /** The ratio with Switchyard's DynamoDB client constructed at load, as Powertools constructs its own. */
        coldLoadClientAtLoadRatioToPowertools: comparison.clientAtLoad.ratio,
        oneTypeConsumer: {
          bundles: comparison.bundles.map(({ outfile: _outfile, ...b }) => b),
          coldLoad: comparison.loads,
          ratioOfMedians: comparison.ratios,
          medianOfPairedRatios: comparison.pairedRatios,
          cpuRatios: comparison.cpuRatios,
          dynamodbClientLoad: comparison.dynamodbClientLoad,
          dynamodbClientCpu: comparison.dynamodbClientCpu,
          ratioAboveClientFloor: comparison.ratioAboveClientFloor,
          /** Both consumers with the SDK bundled (not the constructs' default), same rounds. */
          clientAtLoad: comparison.clientAtLoad,
          sdkBundled: comparison.sdkBundled,
          rounds: COMPARISON_ROUNDS,
        },
        validators: comparison.validators,
      },
      tables: [
        requestTable(requestCases),
        bundleTable(bundleCases, baseline, 'example/functions/'),
        ...comparisonTables(comparison),
      ],
    };
  },
};
