/**
 * The monthly cost of moving `messages` messages of `payloadBytes` through each channel, consumer and
 * outbox of an app, beside the same system built the Powertools way (an idempotency table written
 * twice per message plus the business write, and no batching). Every figure is requests x list price;
 * the assumptions are named in `CostOptions` and in the README.
 */
import { PRICES } from './prices';
import type { ChannelNode, ConsumerNode, OutboxNode, Topology } from './topology';

export interface CostOptions {
  /** Messages per month through each channel, consumer and outbox. @default 1,000,000 */
  readonly messages?: number;
  /** Payload size. @default 1024 */
  readonly payloadBytes?: number;
  /** Handler time per message, in milliseconds. @default 10 */
  readonly msPerMessage?: number;
  /** Fixed time per invocation (start, SDK calls of the batch), in milliseconds. @default 20 */
  readonly msPerInvocation?: number;
  /** Size of the business item an outbox writer saves with each message. @default 512 */
  readonly itemBytes?: number;
}

export interface CostLine {
  readonly kind: 'channel' | 'consumer' | 'outbox';
  readonly name: string;
  /** USD by service. */
  readonly services: Readonly<Record<'sns' | 'sqs' | 'lambda' | 'dynamodb' | 's3', number>>;
  readonly total: number;
  /** The same part built the Powertools way. */
  readonly baseline: number;
}

export interface CostReport {
  readonly messages: number;
  readonly payloadBytes: number;
  readonly lines: readonly CostLine[];
  readonly total: number;
  readonly baselineTotal: number;
  /** Alarms and KMS keys, per month, whatever the traffic. */
  readonly fixedMonthly: number;
}

const MILLION = 1_000_000;
const CHUNK = 65_536;
const GB = 1024 ** 3;
const KB = 1024;
/** A claim envelope's body: bucket, key (channel prefix + message id), size and SHA-256. */
const CLAIM_ENVELOPE_BYTES = 300;
/** SendMessageBatch / PublishBatch / DeleteMessageBatch carry at most 10 entries. */
const BATCH = 10;

const perMillion = (count: number, usdPerMillion: number) => (count / MILLION) * usdPerMillion;

function lambdaCost(invocations: number, ms: number, memoryMb: number, arm: boolean): number {
  const gbSeconds = invocations * (memoryMb / 1024) * (ms / 1000);
  const rate = arm ? PRICES.lambdaArmGbSeconds.usd : PRICES.lambdaX86GbSeconds.usd;
  return perMillion(invocations, PRICES.lambdaRequests.usd) + gbSeconds * rate;
}

function line(
  kind: CostLine['kind'],
  name: string,
  services: Partial<CostLine['services']>,
  baseline: number,
): CostLine {
  const full = { sns: 0, sqs: 0, lambda: 0, dynamodb: 0, s3: 0, ...services };
  return {
    kind,
    name,
    services: full,
    total: full.sns + full.sqs + full.lambda + full.dynamodb + full.s3,
    baseline,
  };
}

export function costReport(topology: Topology, options: CostOptions = {}): CostReport {
  const m = options.messages ?? MILLION;
  const p = options.payloadBytes ?? 1024;
  const msPerMessage = options.msPerMessage ?? 10;
  const msPerInvocation = options.msPerInvocation ?? 20;
  const itemBytes = options.itemBytes ?? 512;
  const chunks = (bytes: number) => Math.max(1, Math.ceil(bytes / CHUNK));
  const wcu = (bytes: number) => Math.max(1, Math.ceil(bytes / KB));
  const dynamo = (units: number) => perMillion(units, PRICES.dynamodbWriteUnits.usd);

  const channel = (c: ChannelNode): CostLine => {
    const offloaded = c.claimCheck !== undefined && p > c.claimCheck.maxMessageBytes;
    // A claim-check channel carries an envelope instead (one PUT per message, one GET per
    // receiving queue, storage until the lifecycle expires it); a channel without one cannot send p.
    const wireBytes = offloaded ? CLAIM_ENVELOPE_BYTES : p;
    const s3 = offloaded
      ? (m / 1000) * PRICES.s3PutRequests.usd +
        (m / 1000) * Math.max(1, c.subscribers) * PRICES.s3GetRequests.usd +
        ((m * p) / GB) * PRICES.s3StorageGbMonth.usd * (c.claimCheck!.expirationDays / 30)
      : 0;
    const withClaims = (cost: CostLine): CostLine =>
      offloaded ? line(cost.kind, cost.name, { ...cost.services, s3 }, cost.baseline) : cost;
    return withClaims(channelRequests(c, wireBytes));
  };

  const channelRequests = (c: ChannelNode, p: number): CostLine => {
    // Switchyard's producer and relay send 10 per batch request; the baseline sends one by one.
    const batched = Math.ceil(m / BATCH) * chunks(BATCH * p);
    const single = m * chunks(p);
    if (c.kind === 'queue') {
      const price = c.fifo ? PRICES.sqsFifoRequests.usd : PRICES.sqsStandardRequests.usd;
      return line('channel', c.id, { sqs: perMillion(batched, price) }, perMillion(single, price));
    }
    if (!c.fifo) {
      // Deliveries from a standard topic to SQS queues are free.
      const price = PRICES.snsStandardPublish.usd;
      return line('channel', c.id, { sns: perMillion(batched, price) }, perMillion(single, price));
    }
    const payloadGb = (m * p) / GB;
    const deliveries =
      c.subscribers *
      (perMillion(m, PRICES.snsFifoDelivery.usd) + payloadGb * PRICES.snsFifoDeliveryPayload.usd);
    const publishPayload = payloadGb * PRICES.snsFifoPublishPayload.usd;
    return line(
      'channel',
      c.id,
      { sns: perMillion(batched, PRICES.snsFifoPublish.usd) + publishPayload + deliveries },
      perMillion(single, PRICES.snsFifoPublish.usd) + publishPayload + deliveries,
    );
  };

  const consumer = (c: ConsumerNode): CostLine => {
    const price = c.fifo ? PRICES.sqsFifoRequests.usd : PRICES.sqsStandardRequests.usd;
    const batches = Math.ceil(m / c.batchSize);
    // The event source mapping receives a batch and deletes it with one DeleteMessageBatch per 10.
    const sqs = perMillion(
      batches * chunks(c.batchSize * p) + batches * Math.ceil(c.batchSize / BATCH),
      price,
    );
    const lambda = lambdaCost(batches, msPerInvocation + c.batchSize * msPerMessage, c.memoryMb, c.arm);
    // Transactional: business item + processed-message record, 2 WCU each in a transaction; in-item: 1 write.
    const dynamodb = dynamo(m * (c.transactionalDedup ? 4 : 1));
    const baseline =
      perMillion(m * chunks(p) + m, price) +
      lambdaCost(m, msPerInvocation + msPerMessage, c.memoryMb, c.arm) +
      // Powertools idempotency: INPROGRESS put + COMPLETED update, then the business write.
      dynamo(m * 3);
    return line('consumer', c.name, { sqs, lambda, dynamodb }, baseline);
  };

  const outbox = (o: OutboxNode): CostLine => {
    const units =
      o.mode === 'in-item'
        ? wcu(itemBytes + p) // one PutItem/UpdateItem carrying state and message
        : 2 * wcu(itemBytes) + 2 * wcu(p + 256); // TransactWriteItems: state + outbox item, 2x each
    const lambda = lambdaCost(
      Math.ceil(m / o.batchSize),
      msPerInvocation + o.batchSize * msPerMessage,
      o.memoryMb,
      o.arm,
    );
    // Powertools has no outbox: the business write, then a direct publish (counted on the channel).
    return line('outbox', o.id, { dynamodb: dynamo(m * units), lambda }, dynamo(m * wcu(itemBytes)));
  };

  const lines = [
    ...topology.channels.map(channel),
    ...topology.consumers.map(consumer),
    ...topology.outboxes.map(outbox),
  ];
  return {
    messages: m,
    payloadBytes: p,
    lines,
    total: lines.reduce((sum, l) => sum + l.total, 0),
    baselineTotal: lines.reduce((sum, l) => sum + l.baseline, 0),
    fixedMonthly: topology.alarms * PRICES.cloudwatchAlarmMonth.usd + topology.keys * PRICES.kmsKeyMonth.usd,
  };
}

/** What delaying messages beyond 15 minutes costs per month, by service (see `scheduledDeliveryCost`). */
export interface ScheduledDeliveryCost {
  readonly scheduler: number;
  readonly sns: number;
  readonly sqs: number;
  readonly total: number;
}

/**
 * The monthly cost of `messages` messages of `payloadBytes` delivered later through EventBridge
 * Scheduler: one scheduled invocation each (past the free tier, which is left out: it is per account,
 * not per app) plus the one SendMessage or Publish it makes (64 KiB chunks, not batched).
 * CreateSchedule requests carry no charge of their own. A standard queue within 15 minutes uses
 * SQS DelaySeconds instead and costs only its SendMessage.
 */
export function scheduledDeliveryCost(
  messages: number,
  payloadBytes: number,
  target: 'queue' | 'fifo-queue' | 'topic',
): ScheduledDeliveryCost {
  const requests = messages * Math.max(1, Math.ceil(payloadBytes / CHUNK));
  const scheduler = perMillion(messages, PRICES.schedulerInvocations.usd);
  const sqs =
    target === 'topic'
      ? 0
      : perMillion(
          requests,
          target === 'fifo-queue' ? PRICES.sqsFifoRequests.usd : PRICES.sqsStandardRequests.usd,
        );
  const sns = target === 'topic' ? perMillion(requests, PRICES.snsStandardPublish.usd) : 0;
  return { scheduler, sns, sqs, total: scheduler + sns + sqs };
}
