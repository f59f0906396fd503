/**
 * Turns a message, its channel and its delivery time into an EventBridge Scheduler CreateSchedule
 * request: a one-time `at()` schedule in UTC, no flexible window, deleted after it ran, whose
 * universal target performs the same SendMessage / Publish the producer would, attributes and FIFO
 * fields included.
 */
import type { CreateScheduleCommandInput } from '@aws-sdk/client-scheduler';
import type { Message } from '../core/message';
import type { ChannelRef } from '../producer/port';
import { checkSendable } from '../producer/send-checks';
import type { SchedulerSettings } from './environment';
import { DelayedDeliveryError } from './errors';
import {
  SCHEDULE_MAX_EVENT_AGE_SECONDS,
  SCHEDULE_NAME_PREFIX,
  SCHEDULE_RETRY_ATTEMPTS,
  SCHEDULER_MAX_INPUT_BYTES,
  SNS_PUBLISH_TARGET,
  SQS_SEND_MESSAGE_TARGET,
} from './limits';

/** The schedule of one message: its name is derived from the message id, so a retried create collides. */
export function scheduleNameOf(message: Message): string {
  return `${SCHEDULE_NAME_PREFIX}${message.id}`;
}

/**
 * `at(yyyy-mm-ddThh:mm:ss)` in UTC, rounded up to the next whole second: Scheduler's `at()` has
 * second resolution, and rounding down would deliver before T.
 */
export function atExpression(deliverAt: Date): string {
  const seconds = Math.ceil(deliverAt.getTime() / 1000);
  return `at(${new Date(seconds * 1000).toISOString().slice(0, 19)})`;
}

/** The SendMessage / Publish request the schedule performs at T, as the universal target's Input. */
export function targetRequest(channel: ChannelRef, message: Message): { arn: string; input: string } {
  const address = channel.type === 'publish-subscribe' ? channel.topicArn : channel.queueUrl;
  // The same checks as an immediate send: a message the channel rejects is refused now, not at T.
  const { wire, fifo } = checkSendable(address, message, channel.maxMessageBytes);
  const request =
    channel.type === 'publish-subscribe'
      ? { TopicArn: channel.topicArn, Message: wire.body, MessageAttributes: wire.attributes, ...fifo }
      : { QueueUrl: channel.queueUrl, MessageBody: wire.body, MessageAttributes: wire.attributes, ...fifo };
  const input = JSON.stringify(request);
  const bytes = Buffer.byteLength(input, 'utf8');
  if (bytes > SCHEDULER_MAX_INPUT_BYTES) {
    throw new DelayedDeliveryError(
      `Message ${message.type} (${message.id}) makes a schedule input of ${bytes} bytes; EventBridge Scheduler ` +
        `accepts at most ${SCHEDULER_MAX_INPUT_BYTES}. Send a smaller payload (store the large part, for example ` +
        'in S3, and send its key), or deliver it within 15 minutes on a standard queue (SQS DelaySeconds has no such limit).',
    );
  }
  return { arn: channel.type === 'publish-subscribe' ? SNS_PUBLISH_TARGET : SQS_SEND_MESSAGE_TARGET, input };
}

/** The CreateSchedule request that delivers `message` to `channel` at `deliverAt`. */
export function createScheduleInput(
  channel: ChannelRef,
  message: Message,
  deliverAt: Date,
  settings: SchedulerSettings,
): CreateScheduleCommandInput {
  const target = targetRequest(channel, message);
  return {
    Name: scheduleNameOf(message),
    GroupName: settings.groupName,
    ScheduleExpression: atExpression(deliverAt),
    ScheduleExpressionTimezone: 'UTC',
    FlexibleTimeWindow: { Mode: 'OFF' },
    ActionAfterCompletion: 'DELETE',
    Description: `Switchyard delayed delivery of ${message.type} ${message.id}`.slice(0, 512),
    Target: {
      Arn: target.arn,
      RoleArn: settings.roleArn,
      Input: target.input,
      DeadLetterConfig: { Arn: settings.deadLetterQueueArn },
      RetryPolicy: {
        MaximumRetryAttempts: SCHEDULE_RETRY_ATTEMPTS,
        MaximumEventAgeInSeconds: SCHEDULE_MAX_EVENT_AGE_SECONDS,
      },
    },
  };
}
