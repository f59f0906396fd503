/** The CreateSchedule request delayed delivery builds, and its refusals, without any service. */
import { z } from 'zod';
import { defineEvent } from '../lambdas/core/definition';
import { ConfigurationError } from '../lambdas/core/errors';
import {
  atExpression,
  createDelayedDelivery,
  createScheduleInput,
  DelayedDeliveryError,
  schedulerSettingsFromEnvironment,
} from '../lambdas/delayed';

const Due = defineEvent({
  type: 'Due',
  schema: z.object({ orderId: z.string() }),
  partitionKey: (p) => p.orderId,
});
const settings = {
  groupName: 'backbone',
  roleArn: 'arn:aws:iam::123456789012:role/scheduler',
  deadLetterQueueArn: 'arn:aws:sqs:us-east-1:123456789012:scheduler-dlq',
};

describe('schedule request', () => {
  test('at() is UTC to the second, rounded up so it never fires before T', () => {
    expect(atExpression(new Date('2027-01-31T09:00:00.000Z'))).toBe('at(2027-01-31T09:00:00)');
    expect(atExpression(new Date('2027-01-31T09:00:00.001Z'))).toBe('at(2027-01-31T09:00:01)');
  });

  test('a FIFO topic: universal sns:publish target with the group and deduplication ids, headers as attributes', () => {
    const message = Due.create({ orderId: 'o-1' });
    const topicArn = 'arn:aws:sns:us-east-1:123456789012:events.fifo';
    const input = createScheduleInput(
      { type: 'publish-subscribe', topicArn },
      message,
      new Date('2027-01-01T00:00:00Z'),
      settings,
    );
    expect(input).toMatchObject({
      Name: `sy-${message.id}`,
      GroupName: 'backbone',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      Target: { Arn: 'arn:aws:scheduler:::aws-sdk:sns:publish', RoleArn: settings.roleArn },
    });
    const request = JSON.parse(input.Target!.Input!);
    expect(request).toMatchObject({
      TopicArn: topicArn,
      MessageGroupId: 'o-1',
      MessageDeduplicationId: message.id,
    });
    expect(Object.keys(request.MessageAttributes)).toEqual(Object.keys(message.headers));
    expect(input.Name!.length).toBeLessThanOrEqual(64);
  });

  test('missing settings name the variables and the grant that sets them', () => {
    expect(() => schedulerSettingsFromEnvironment({})).toThrow(ConfigurationError);
    expect(() => schedulerSettingsFromEnvironment({})).toThrow(
      /SWITCHYARD_SCHEDULER_GROUP, SWITCHYARD_SCHEDULER_ROLE_ARN, SWITCHYARD_SCHEDULER_DLQ_ARN.*grantSchedule/,
    );
  });

  test('a negative delay or an invalid date is refused before any request', async () => {
    const port = createDelayedDelivery({ settings });
    const channel = { type: 'point-to-point', queueUrl: 'http://127.0.0.1:1/000000000000/q' } as const;
    await expect(port.deliverAfter(channel, Due.create({ orderId: 'o' }), -1)).rejects.toThrow(
      DelayedDeliveryError,
    );
    await expect(port.deliverAt(channel, Due.create({ orderId: 'o' }), new Date('nope'))).rejects.toThrow(
      /not a valid Date/,
    );
  });
});
