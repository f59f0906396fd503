/**
 * "Deliver at T": sends a message to a channel so that it arrives at T, for any T up to a year
 * ahead. A standard queue within 15 minutes takes SQS DelaySeconds; anything later, every SNS topic
 * (SNS has no delay) and every FIFO queue (FIFO delays are per queue only) goes through an
 * EventBridge Scheduler one-time schedule, named after the message id so a retried create is a no-op.
 */
import { ConflictException, CreateScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import type { SNSClient } from '@aws-sdk/client-sns';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Message } from '../core/message';
import type { RetryOptions } from '../producer/batch';
import { type ChannelRef, isFifoAddress } from '../producer/port';
import { withRetries } from '../producer/retry';
import { checkSendable } from '../producer/send-checks';
import { createProducer } from '../producer/sns-sqs-producer';
import { type SchedulerSettings, schedulerSettingsFromEnvironment } from './environment';
import { DelayedDeliveryError } from './errors';
import { MAX_DELAY_MS, SQS_MAX_DELAY_SECONDS } from './limits';
import { createScheduleInput, scheduleNameOf } from './schedule-request';

export interface DelayedDeliveryOptions {
  /** @default - a client shared by the module */
  readonly scheduler?: SchedulerClient;
  /** @default - a client shared by the module */
  readonly sqs?: SQSClient;
  /** @default - the producer's shared client */
  readonly sns?: SNSClient;
  /** @default - from SWITCHYARD_SCHEDULER_* (set by `DelayedDelivery.grantSchedule`), read on first schedule */
  readonly settings?: SchedulerSettings;
  /** Requests per call, first try included, for errors the SDK's own retries left (throttling). @default 3 */
  readonly maxAttempts?: number;
  /** Scale of the jittered backoff between those requests. @default 50 */
  readonly baseDelayMs?: number;
  /** The clock T is measured against. @default Date.now */
  readonly now?: () => number;
}

/** How a message was handed over. */
export type DeliveryMechanism = 'immediate' | 'sqs-delay' | 'scheduler';

export interface DelayedDeliveryResult {
  /** The Switchyard message id. */
  readonly id: string;
  readonly via: DeliveryMechanism;
  /** When the message becomes deliverable (T, or now for a T in the past). */
  readonly deliverAt: Date;
  /** The schedule's name, when `via` is `scheduler`. */
  readonly scheduleName?: string;
  /** True when the schedule already existed: a retry of an earlier call that had created it. */
  readonly alreadyScheduled?: boolean;
}

export interface DelayedDelivery {
  /**
   * Delivers `message` to `channel` at `deliverAt`. A time in the past (or now) sends at once; a time
   * more than a year ahead is refused with DelayedDeliveryError, as is a payload a schedule cannot carry.
   */
  deliverAt(channel: ChannelRef, message: Message, deliverAt: Date): Promise<DelayedDeliveryResult>;
  /** Delivers `message` to `channel` after `delayMs` milliseconds. */
  deliverAfter(channel: ChannelRef, message: Message, delayMs: number): Promise<DelayedDeliveryResult>;
}

let sharedScheduler: SchedulerClient | undefined;
let sharedSqs: SQSClient | undefined;

/**
 * Creates the delayed-delivery port.
 *
 * @example
 * const delayed = createDelayedDelivery();
 * const reminders = channelFromEnvironment('reminders');
 * await delayed.deliverAt(reminders, PaymentDue.create({ orderId: 'o-1' }), new Date('2027-01-31T09:00:00Z'));
 * await delayed.deliverAfter(reminders, PaymentDue.create({ orderId: 'o-2' }), 48 * 3600_000);
 */
export function createDelayedDelivery(options: DelayedDeliveryOptions = {}): DelayedDelivery {
  const now = options.now ?? Date.now;
  const retry: RetryOptions = {
    maxAttempts: Math.max(1, options.maxAttempts ?? 3),
    baseDelayMs: Math.max(0, options.baseDelayMs ?? 50),
  };
  const sqs = (): SQSClient => {
    if (options.sqs) return options.sqs;
    sharedSqs ??= new SQSClient({});
    return sharedSqs;
  };
  const scheduler = (): SchedulerClient => {
    if (options.scheduler) return options.scheduler;
    sharedScheduler ??= new SchedulerClient({});
    return sharedScheduler;
  };
  const producer = createProducer({ sqs: options.sqs, sns: options.sns, ...retry });
  let settings = options.settings;

  const sendNow = async (channel: ChannelRef, message: Message): Promise<DelayedDeliveryResult> => {
    if (channel.type === 'publish-subscribe') await producer.publish(channel.topicArn, message);
    else await producer.send(channel.queueUrl, message);
    return { id: message.id, via: 'immediate', deliverAt: new Date(now()) };
  };

  const sendDelayed = async (
    queueUrl: string,
    message: Message,
    delaySeconds: number,
    deliverAt: Date,
  ): Promise<DelayedDeliveryResult> => {
    const { wire, fifo } = checkSendable(queueUrl, message);
    const command = new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: wire.body,
      MessageAttributes: wire.attributes,
      DelaySeconds: delaySeconds,
      ...fifo,
    });
    await withRetries(() => sqs().send(command), retry);
    return { id: message.id, via: 'sqs-delay', deliverAt };
  };

  const schedule = async (
    channel: ChannelRef,
    message: Message,
    deliverAt: Date,
  ): Promise<DelayedDeliveryResult> => {
    settings ??= schedulerSettingsFromEnvironment();
    const command = new CreateScheduleCommand(createScheduleInput(channel, message, deliverAt, settings));
    const scheduleName = scheduleNameOf(message);
    try {
      await withRetries(() => scheduler().send(command), retry);
      return { id: message.id, via: 'scheduler', deliverAt, scheduleName };
    } catch (error) {
      // The name is the message id: a schedule of that name is this message, created by an earlier
      // attempt whose response was lost (or by an earlier call of a retried handler).
      if (error instanceof ConflictException || (error as Error).name === 'ConflictException')
        return { id: message.id, via: 'scheduler', deliverAt, scheduleName, alreadyScheduled: true };
      throw error;
    }
  };

  const deliverAt = async (
    channel: ChannelRef,
    message: Message,
    when: Date,
  ): Promise<DelayedDeliveryResult> => {
    const at = when.getTime();
    if (!Number.isFinite(at))
      throw new DelayedDeliveryError(
        `Message ${message.type} (${message.id}): deliverAt is not a valid Date.`,
      );
    const delayMs = at - now();
    if (delayMs > MAX_DELAY_MS) {
      throw new DelayedDeliveryError(
        `Message ${message.type} (${message.id}): deliverAt ${when.toISOString()} is more than a year ahead ` +
          `(at most ${new Date(now() + MAX_DELAY_MS).toISOString()}). Store the intent and schedule it later, or ` +
          'check the unit of the delay (milliseconds).',
      );
    }
    // A time already reached is due: sending it now is what "not before T" means, and a handler retried
    // after T must not fail for having been slow.
    if (delayMs <= 0) return sendNow(channel, message);
    const delaySeconds = Math.ceil(delayMs / 1000);
    if (
      channel.type === 'point-to-point' &&
      !isFifoAddress(channel.queueUrl) &&
      delaySeconds <= SQS_MAX_DELAY_SECONDS
    )
      return sendDelayed(channel.queueUrl, message, delaySeconds, when);
    return schedule(channel, message, when);
  };

  return {
    deliverAt,
    deliverAfter: async (channel, message, delayMs) => {
      if (!Number.isFinite(delayMs) || delayMs < 0)
        throw new DelayedDeliveryError(
          `Message ${message.type} (${message.id}): deliverAfter needs a delay of 0 or more milliseconds, got ${delayMs}.`,
        );
      return deliverAt(channel, message, new Date(now() + delayMs));
    },
  };
}
