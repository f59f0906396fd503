/**
 * Finds the dead-letter queues of an account (or emulator) and where their messages came from:
 * every queue whose RedrivePolicy names it, plus the outbox failure queues (tagged by the
 * TransactionalOutbox construct, since nothing redrives into them). ListDeadLetterSourceQueues is
 * not used: the local emulator lacks it, and the redrive policies say the same thing.
 */
import {
  GetQueueAttributesCommand,
  ListQueuesCommand,
  ListQueueTagsCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { OperationError } from './errors';

/** Tag the TransactionalOutbox puts on its failure queue (see lib/transactional-outbox.ts). */
export const ROLE_TAG = 'switchyard:role';
export const OUTBOX_FAILURE_ROLE = 'outbox-failure-queue'; // FAILURE_QUEUE_ROLE in lib/transactional-outbox.ts
/** The DLQ of EventBridge Scheduler deliveries (SCHEDULER_DLQ_ROLE in lib/delayed-delivery.ts). */
export const SCHEDULER_DLQ_ROLE = 'scheduler-dead-letter-queue';

export interface QueueInfo {
  readonly url: string;
  readonly name: string;
  readonly arn: string;
  readonly fifo: boolean;
  readonly depth: number;
  readonly inFlight: number;
  /** The DLQ this queue redrives to, if any. */
  readonly deadLetterTargetArn?: string;
  readonly maxReceiveCount?: number;
  readonly tags: Readonly<Record<string, string>>;
}

export interface DeadLetterQueue {
  readonly queue: QueueInfo;
  /** Queues whose redrive policy targets this one. */
  readonly sources: readonly QueueInfo[];
  readonly kind: 'dead-letter-queue' | 'outbox-failure-queue' | 'scheduler-dead-letter-queue';
}

export async function listQueues(sqs: SQSClient, prefix?: string): Promise<QueueInfo[]> {
  const urls: string[] = [];
  let next: string | undefined;
  do {
    const page = await sqs.send(
      new ListQueuesCommand({ QueueNamePrefix: prefix, NextToken: next, MaxResults: 1000 }),
    );
    urls.push(...(page.QueueUrls ?? []));
    next = page.NextToken;
  } while (next);
  return Promise.all(urls.map((url) => describeQueue(sqs, url)));
}

export async function describeQueue(sqs: SQSClient, url: string): Promise<QueueInfo> {
  const [{ Attributes = {} }, tags] = await Promise.all([
    sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] })),
    sqs.send(new ListQueueTagsCommand({ QueueUrl: url })).then(
      (r) => r.Tags ?? {},
      () => ({}) as Record<string, string>, // tags are a hint; a missing sqs:ListQueueTags permission is not fatal
    ),
  ]);
  const arn = Attributes.QueueArn ?? url;
  let redrive: { deadLetterTargetArn?: string; maxReceiveCount?: number | string } = {};
  if (Attributes.RedrivePolicy) {
    try {
      redrive = JSON.parse(Attributes.RedrivePolicy) as typeof redrive;
    } catch {
      redrive = {};
    }
  }
  return {
    url,
    arn,
    name: arn.split(':').pop() ?? url.split('/').pop() ?? url,
    fifo: Attributes.FifoQueue === 'true',
    depth: Number(Attributes.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
    deadLetterTargetArn: redrive.deadLetterTargetArn,
    maxReceiveCount: redrive.maxReceiveCount === undefined ? undefined : Number(redrive.maxReceiveCount),
    tags,
  };
}

export function deadLetterQueues(queues: readonly QueueInfo[]): DeadLetterQueue[] {
  const found: DeadLetterQueue[] = [];
  for (const queue of queues) {
    const sources = queues.filter((q) => q.deadLetterTargetArn === queue.arn);
    if (sources.length > 0) found.push({ queue, sources, kind: 'dead-letter-queue' });
    else if (queue.tags[ROLE_TAG] === OUTBOX_FAILURE_ROLE)
      found.push({ queue, sources: [], kind: 'outbox-failure-queue' });
    else if (queue.tags[ROLE_TAG] === SCHEDULER_DLQ_ROLE)
      found.push({ queue, sources: [], kind: 'scheduler-dead-letter-queue' });
  }
  return found.sort((a, b) => a.queue.name.localeCompare(b.queue.name));
}

/** Finds a queue by URL, ARN, exact name or a unique part of its name. */
export function findQueue<T extends { queue: QueueInfo } | QueueInfo>(
  candidates: readonly T[],
  wanted: string,
  what: string,
): T {
  const info = (c: T): QueueInfo => ('queue' in c ? c.queue : c);
  const exact = candidates.find((c) => [info(c).url, info(c).arn, info(c).name].includes(wanted));
  if (exact) return exact;
  const partial = candidates.filter((c) => info(c).name.includes(wanted));
  if (partial.length === 1) return partial[0]!;
  const names = candidates.map((c) => info(c).name);
  if (partial.length > 1) {
    throw new OperationError(
      `"${wanted}" matches ${partial.length} ${what}s: ${partial.map((c) => info(c).name).join(', ')}. Give more of the name, or the URL.`,
    );
  }
  throw new OperationError(
    `No ${what} "${wanted}". ${names.length ? `Known: ${names.join(', ')}.` : `There are none here.`} ` +
      'Run "switchyard dlq list" to see them.',
  );
}
