/**
 * FIFO receives as SQS does them, on top of fauxqs 1.9.x.
 *
 * fauxqs hands out at most one message per message group per ReceiveMessage, so locally a batch
 * never holds two messages of one group, and a handler that processes a FIFO batch in parallel
 * keeps order locally and breaks it in AWS. SQS returns up to 10 messages per receive, several of
 * one group, in order; while any of them is in flight the group yields nothing more, and other
 * groups are unaffected (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/FIFO-queues-understanding-logic.html).
 *
 * Why here and not in the local event source mapping: the mapping cannot get a second message of
 * a group that the emulator has locked, and every SQS client (a function calling ReceiveMessage
 * itself, tests, the CLI) deserves SQS's answer, not only the Lambda poller. Upstreaming is not
 * possible from this repository, and node_modules must not be edited by hand, so the local cloud
 * subclasses fauxqs' own queue class at run time (the store creates queues through the subclass).
 *
 * Two more SQS rules fauxqs misses once a receive can hold several messages of a group:
 * - messages that become visible again (visibility timeout, or ChangeMessageVisibility to 0)
 *   return to their group in sequence order; fauxqs puts each at the front, which would reverse
 *   a released batch;
 * - the group lock is counted per message, so the group stays blocked until every message of the
 *   batch is deleted or visible again.
 */
import { randomUUID } from 'node:crypto';

/** The fields of a fauxqs message this module reads (fauxqs 1.9.x `SqsMessage`). */
interface FauxqsMessage {
  messageId: string;
  body: string;
  md5OfBody: string;
  messageAttributes: Record<string, unknown>;
  md5OfMessageAttributes?: string;
  approximateReceiveCount: number;
  approximateFirstReceiveTimestamp?: number;
  messageGroupId?: string;
  sequenceNumber?: string;
}

interface FauxqsReceived {
  MessageId: string;
  ReceiptHandle: string;
  MD5OfBody: string;
  Body: string;
  MD5OfMessageAttributes?: string;
  MessageAttributes?: Record<string, unknown>;
}

/** The members of fauxqs' `SqsQueue` this subclass relies on. */
export interface FauxqsQueue {
  name: string;
  attributes: Record<string, string>;
  spy?: { addMessage(entry: Record<string, unknown>): void };
  inflightMessages: Map<
    string,
    { message: FauxqsMessage; receiptHandle: string; visibilityDeadline: number }
  >;
  fifoMessages: Map<string, FauxqsMessage[]>;
  fifoLockedGroups: Map<string, number>;
  isFifo(): boolean;
  processTimers(): void;
  changeVisibility(receiptHandle: string, timeoutSeconds: number): void;
  dequeueFifo(
    maxCount: number,
    visibilityTimeoutOverride: number | undefined,
    dlqResolver?: (arn: string) => { enqueue(message: FauxqsMessage): void } | undefined,
  ): FauxqsReceived[];
}

// biome-ignore lint/suspicious/noExplicitAny: fauxqs' constructor signature is its own business.
export type FauxqsQueueClass = new (...args: any[]) => FauxqsQueue;

const MAX_RECEIVE = 10;

function redrive(attributes: Record<string, string>): { maxReceiveCount: number; dlqArn?: string } {
  try {
    const policy = JSON.parse(attributes.RedrivePolicy ?? '{}') as {
      maxReceiveCount?: number | string;
      deadLetterTargetArn?: string;
    };
    const max = Number(policy.maxReceiveCount);
    return {
      maxReceiveCount: Number.isFinite(max) && max > 0 ? max : Infinity,
      dlqArn: policy.deadLetterTargetArn,
    };
  } catch {
    return { maxReceiveCount: Infinity };
  }
}

const bySequence = (a: FauxqsMessage, b: FauxqsMessage) =>
  (a.sequenceNumber ?? '').localeCompare(b.sequenceNumber ?? '');

/** fauxqs pads sequence numbers to 20 digits, so string order is numeric order. */
function inSequenceOrder(messages: FauxqsMessage[]): boolean {
  for (let i = 1; i < messages.length; i += 1) {
    if (bySequence(messages[i - 1] as FauxqsMessage, messages[i] as FauxqsMessage) > 0) return false;
  }
  return true;
}

/** Checks that the installed fauxqs still has the internals the subclass builds on. */
function assertCompatible(Base: FauxqsQueueClass): void {
  const proto = Base.prototype as Partial<FauxqsQueue>;
  const missing = (['dequeueFifo', 'processTimers', 'changeVisibility', 'isFifo'] as const).filter(
    (name) => typeof proto[name] !== 'function',
  );
  if (missing.length > 0) {
    throw new Error(
      `The installed fauxqs has no SqsQueue.${missing.join('/')}; the FIFO receive fix in local/fauxqs-fifo.ts ` +
        'was written for fauxqs 1.9.x. Install the version package.json pins (npm ci).',
    );
  }
}

/** A subclass of fauxqs' `SqsQueue` whose FIFO receives follow SQS. */
export function awsFifoQueueClass<T extends FauxqsQueueClass>(Base: T): T {
  assertCompatible(Base);
  return class AwsFifoQueue extends Base {
    override dequeueFifo(
      maxCount: number,
      visibilityTimeoutOverride: number | undefined,
      dlqResolver?: (arn: string) => { enqueue(message: FauxqsMessage): void } | undefined,
    ): FauxqsReceived[] {
      this.processTimers();
      const visibilityTimeout =
        visibilityTimeoutOverride ?? Number.parseInt(this.attributes.VisibilityTimeout ?? '30', 10);
      const { maxReceiveCount, dlqArn } = redrive(this.attributes);
      const count = Math.min(maxCount, MAX_RECEIVE);
      const received: FauxqsReceived[] = [];
      for (const [groupId, group] of this.fifoMessages) {
        if (received.length >= count) break;
        // A group with a message in flight yields nothing until that message is deleted or visible.
        if (this.fifoLockedGroups.has(groupId)) continue;
        // Unlike fauxqs, keep taking from this group, in order, up to the receive's limit.
        while (received.length < count && group.length > 0) {
          const message = group.shift() as FauxqsMessage;
          message.approximateReceiveCount += 1;
          message.approximateFirstReceiveTimestamp ??= Date.now();
          const dlq =
            dlqArn && message.approximateReceiveCount > maxReceiveCount ? dlqResolver?.(dlqArn) : undefined;
          if (dlq) {
            this.spy?.addMessage({
              service: 'sqs',
              queueName: this.name,
              messageId: message.messageId,
              body: message.body,
              messageAttributes: message.messageAttributes,
              status: 'dlq',
              timestamp: Date.now(),
            });
            dlq.enqueue(message);
            continue;
          }
          const receiptHandle = randomUUID();
          this.inflightMessages.set(receiptHandle, {
            message,
            receiptHandle,
            visibilityDeadline: Date.now() + visibilityTimeout * 1000,
          });
          const out: FauxqsReceived = {
            MessageId: message.messageId,
            ReceiptHandle: receiptHandle,
            MD5OfBody: message.md5OfBody,
            Body: message.body,
          };
          if (message.md5OfMessageAttributes) out.MD5OfMessageAttributes = message.md5OfMessageAttributes;
          if (Object.keys(message.messageAttributes).length > 0)
            out.MessageAttributes = message.messageAttributes;
          received.push(out);
          this.fifoLockedGroups.set(groupId, (this.fifoLockedGroups.get(groupId) ?? 0) + 1);
        }
        if (group.length === 0) this.fifoMessages.delete(groupId);
      }
      return received;
    }

    override processTimers(): void {
      super.processTimers();
      if (this.isFifo()) this.restoreGroupOrder();
    }

    override changeVisibility(receiptHandle: string, timeoutSeconds: number): void {
      super.changeVisibility(receiptHandle, timeoutSeconds);
      if (timeoutSeconds === 0 && this.isFifo()) this.restoreGroupOrder();
    }

    /** Messages back from flight go where their sequence number says, not to the group's front. */
    private restoreGroupOrder(): void {
      for (const group of this.fifoMessages.values()) if (!inSequenceOrder(group)) group.sort(bySequence);
    }
  };
}

interface FauxqsStore {
  createQueue(...args: unknown[]): FauxqsQueue;
  spy?: unknown;
  queues: Map<string, FauxqsQueue>;
  queuesByName: Map<string, FauxqsQueue>;
  queuesByArn: Map<string, FauxqsQueue>;
}

// biome-ignore lint/suspicious/noExplicitAny: fauxqs' constructor signature is its own business.
export type FauxqsStoreClass = new (...args: any[]) => FauxqsStore;

/** A fauxqs `SqsStore` whose queues are `AwsFifoQueue`s. */
export function awsFifoStoreClass(Store: FauxqsStoreClass, Queue: FauxqsQueueClass): FauxqsStoreClass {
  const AwsFifoQueue = awsFifoQueueClass(Queue);
  return class AwsFifoStore extends Store {
    override createQueue(
      name: string,
      url: string,
      arn: string,
      attributes: unknown,
      tags: unknown,
    ): FauxqsQueue {
      const queue = new AwsFifoQueue(name, url, arn, attributes, tags);
      if (this.spy) (queue as { spy?: unknown }).spy = this.spy;
      this.queues.set(url, queue);
      this.queuesByName.set(name, queue);
      this.queuesByArn.set(arn, queue);
      return queue;
    }
  };
}
