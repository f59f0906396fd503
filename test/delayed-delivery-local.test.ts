/**
 * Delayed delivery end to end on the local cloud: a small app with a standard queue, a FIFO queue and
 * a standard topic, a producer function granted by `DelayedDelivery.grantSchedule` and one that is
 * not. The runtime runs with each function's own credentials against the IAM gateway; the local
 * EventBridge Scheduler's clock is moved ahead, so "two days from now" is checked in seconds: nothing
 * arrives before T, the message arrives at T with its headers (and FIFO group), the schedule is gone after.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  ConflictException,
  CreateScheduleCommand,
  GetScheduleCommand,
  InternalServerException,
  ListSchedulesCommand,
  ResourceNotFoundException,
  SchedulerClient,
  ThrottlingException,
} from '@aws-sdk/client-scheduler';
import { SNSClient } from '@aws-sdk/client-sns';
import { ReceiveMessageCommand, SQSClient, type Message as SqsMessage } from '@aws-sdk/client-sqs';
import { App, CfnOutput, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { z } from 'zod';
import { main } from '../bin/cli';
import { peek } from '../cli/ops/dead-letters';
import { deadLetterQueues, listQueues } from '../cli/ops/queues';
import { defineEvent } from '../lambdas/core/definition';
import {
  createDelayedDelivery,
  createScheduleInput,
  DelayedDeliveryError,
  type DelayedDeliveryOptions,
  schedulerSettingsFromEnvironment,
} from '../lambdas/delayed';
import { channelFromEnvironment } from '../lambdas/producer';
import { createGatherer } from '../lambdas/styles/gatherer';
import { DelayedDelivery, PointToPointChannel, PublishSubscribeChannel } from '../lib';
import { LocalCloud } from '../local/cloud';
import type { LocalScheduler } from '../local/scheduler/local-scheduler';
import { dynamodbEndpoint, snsSqsEndpoint, uniqueName } from './support/emulators';
import { injectFaults } from './support/sdk-faults';

const PaymentDue = defineEvent({
  type: 'PaymentDue',
  schema: z.object({ orderId: z.string(), note: z.string().optional() }),
  partitionKey: (p) => p.orderId,
});

const HOUR = 3600_000;
const DAY = 24 * HOUR;

/** The app under test: three channels delayed messages may go to, one they may not, two producers. */
function synthesize(): string {
  const outdir = mkdtempSync(join(tmpdir(), 'switchyard-delayed-'));
  const app = new App({ outdir });
  const stack = new Stack(app, uniqueName('Delayed'));
  const reminders = new PointToPointChannel(stack, 'Reminders', { channelName: 'reminders' });
  const ordered = new PointToPointChannel(stack, 'Ordered', { channelName: 'ordered', fifo: true });
  const events = new PublishSubscribeChannel(stack, 'Events', { channelName: 'events' });
  const unrelated = new PointToPointChannel(stack, 'Unrelated', { channelName: 'unrelated' });
  const inbox = new sqs.Queue(stack, 'EventsInbox', { enforceSSL: true });
  events.topic.addSubscription(new subscriptions.SqsSubscription(inbox, { rawMessageDelivery: true }));
  const code = lambda.Code.fromInline('exports.handler = async () => ({});');
  const newFunction = (id: string) =>
    new lambda.Function(stack, id, { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code });
  const producer = newFunction('Producer');
  const outsider = newFunction('Outsider');
  for (const channel of [reminders, ordered, events, unrelated]) {
    channel.bindProducer(producer);
    channel.bindProducer(outsider);
  }
  const delayed = new DelayedDelivery(stack, 'DelayedDelivery', { channels: [reminders, ordered, events] });
  delayed.grantSchedule(producer);
  // The outsider knows where the group is, but was never granted scheduling.
  for (const [name, value] of Object.entries({
    SWITCHYARD_SCHEDULER_GROUP: delayed.scheduleGroup.ref,
    SWITCHYARD_SCHEDULER_ROLE_ARN: delayed.role.roleArn,
    SWITCHYARD_SCHEDULER_DLQ_ARN: delayed.deadLetterQueue.queueArn,
  }))
    outsider.addEnvironment(name, value);
  new CfnOutput(stack, 'InboxUrl', { value: inbox.queueUrl });
  new CfnOutput(stack, 'SchedulerDlqUrl', { value: delayed.deadLetterQueue.queueUrl });
  app.synth();
  return outdir;
}

let cloud: LocalCloud;
let scheduler: LocalScheduler;
/** The cloud's own (administrator) clients, for looking. */
let admin: { sqs: SQSClient; scheduler: SchedulerClient };
const destroyable: { destroy(): void }[] = [];

beforeAll(async () => {
  cloud = await LocalCloud.start({
    assemblyDir: synthesize(),
    endpoints: { snsSqs: snsSqsEndpoint(), dynamodb: dynamodbEndpoint() },
    runEventSources: false,
  });
  scheduler = cloud.scheduler!;
  const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  admin = {
    sqs: new SQSClient({ endpoint: cloud.endpoints.snsSqs, region: cloud.region, credentials }),
    scheduler: new SchedulerClient({ endpoint: cloud.endpoints.snsSqs, region: cloud.region, credentials }),
  };
  destroyable.push(admin.sqs, admin.scheduler);
}, 120_000);

afterAll(async () => {
  for (const client of destroyable) client.destroy();
  await cloud?.stop();
});

/** The environment and SDK clients of a function: its role's credentials, the gateway's endpoint. */
function actingAs(functionName: string, clientOptions: { maxAttempts?: number } = {}) {
  const definition = cloud.findFunction(functionName);
  const env = cloud.functionEnvironment(definition);
  const config = {
    endpoint: cloud.endpoints.snsSqs,
    region: cloud.region,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: 'local' },
    ...clientOptions,
  };
  const clients = {
    scheduler: new SchedulerClient(config),
    sqs: new SQSClient(config),
    sns: new SNSClient(config),
  };
  destroyable.push(clients.scheduler, clients.sqs, clients.sns);
  return { env, clients };
}

/** The delayed-delivery port of a function, on the scheduler's clock. */
function delayedDeliveryOf(functionName: string, options: Partial<DelayedDeliveryOptions> = {}) {
  const { env, clients } = actingAs(functionName);
  const port = createDelayedDelivery({
    ...clients,
    settings: schedulerSettingsFromEnvironment(env),
    now: () => scheduler.now(),
    baseDelayMs: 1,
    ...options,
  });
  return { port, env, clients };
}

async function receive(queueUrl: string): Promise<SqsMessage[]> {
  const out = await admin.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 0,
      MessageAttributeNames: ['All'],
      MessageSystemAttributeNames: ['All'],
    }),
  );
  return out.Messages ?? [];
}

/** Receives until something arrives or `ms` passed (deliveries run on the scheduler's 200 ms tick). */
async function receiveWithin(queueUrl: string, ms = 3000): Promise<SqsMessage[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const messages = await receive(queueUrl);
    if (messages.length > 0 || Date.now() > deadline) return messages;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const attribute = (m: SqsMessage, name: string) => m.MessageAttributes?.[name]?.StringValue;

describe('delayed delivery on the local cloud', () => {
  test('two days ahead on a standard queue: a one-time schedule; nothing before T, the message with its headers at T, then no schedule', async () => {
    const { port, env } = delayedDeliveryOf('Producer');
    const reminders = channelFromEnvironment('reminders', env);
    const queueUrl = (reminders as { queueUrl: string }).queueUrl;
    const message = PaymentDue.create({ orderId: 'o-2days' });
    const result = await port.deliverAfter(reminders, message, 2 * DAY);
    expect(result).toMatchObject({ id: message.id, via: 'scheduler', scheduleName: `sy-${message.id}` });

    const group = env.SWITCHYARD_SCHEDULER_GROUP!;
    const stored = await admin.scheduler.send(
      new GetScheduleCommand({ Name: result.scheduleName!, GroupName: group }),
    );
    expect(stored).toMatchObject({
      ScheduleExpression: expect.stringMatching(/^at\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\)$/),
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      Target: {
        Arn: 'arn:aws:scheduler:::aws-sdk:sqs:sendMessage',
        RoleArn: env.SWITCHYARD_SCHEDULER_ROLE_ARN,
        DeadLetterConfig: { Arn: env.SWITCHYARD_SCHEDULER_DLQ_ARN },
        RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86_400 },
      },
    });

    expect(await receiveWithin(queueUrl, 500)).toEqual([]);
    await scheduler.advanceClock(2 * DAY - 5_000);
    expect(await receiveWithin(queueUrl, 500)).toEqual([]); // 5 s before T: not yet
    await scheduler.advanceClock(6_000);
    const [delivered, ...more] = await receiveWithin(queueUrl);
    expect(more).toEqual([]);
    expect(JSON.parse(delivered!.Body!)).toEqual({ orderId: 'o-2days' });
    for (const [name, value] of Object.entries(message.headers))
      expect(attribute(delivered!, name)).toBe(value);
    await expect(
      admin.scheduler.send(new GetScheduleCommand({ Name: result.scheduleName!, GroupName: group })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    expect(cloud.denials()).toEqual([]);
    // The deployer created the schedule group (CreateSchedule into a missing group is ResourceNotFoundException).
    expect([...cloud.stacks[0]!.unsupported.keys()]).not.toContain('AWS::Scheduler::ScheduleGroup');
  });

  test('a FIFO queue, even within 15 minutes, goes through a schedule that keeps the group id and deduplication id', async () => {
    const { port, env } = delayedDeliveryOf('Producer');
    const ordered = channelFromEnvironment('ordered', env);
    const message = PaymentDue.create({ orderId: 'o-fifo' });
    const result = await port.deliverAfter(ordered, message, 10 * 60_000);
    expect(result.via).toBe('scheduler');
    await scheduler.advanceClock(9 * 60_000);
    const queueUrl = (ordered as { queueUrl: string }).queueUrl;
    expect(await receiveWithin(queueUrl, 500)).toEqual([]);
    await scheduler.advanceClock(61_000);
    const [delivered] = await receiveWithin(queueUrl);
    expect(delivered?.Attributes?.MessageGroupId).toBe('o-fifo');
    expect(delivered?.Attributes?.MessageDeduplicationId).toBe(message.id);
    expect(attribute(delivered!, 'type') ?? JSON.stringify(delivered!.MessageAttributes)).toContain(
      'PaymentDue',
    );
  });

  test('a standard topic three days ahead reaches its raw subscriber with the headers', async () => {
    const { port, env } = delayedDeliveryOf('Producer');
    const events = channelFromEnvironment('events', env);
    const message = PaymentDue.create({ orderId: 'o-topic' });
    expect((await port.deliverAt(events, message, new Date(scheduler.now() + 3 * DAY))).via).toBe(
      'scheduler',
    );
    const inbox = String(cloud.outputs().InboxUrl);
    await scheduler.advanceClock(3 * DAY - 60_000);
    expect(await receiveWithin(inbox, 500)).toEqual([]);
    await scheduler.advanceClock(61_000);
    const [delivered] = await receiveWithin(inbox);
    expect(JSON.parse(delivered!.Body!)).toEqual({ orderId: 'o-topic' });
    for (const [name, value] of Object.entries(message.headers))
      expect(attribute(delivered!, name)).toBe(value);
  });

  test('within 15 minutes on a standard queue SQS DelaySeconds carries it; no schedule is made', async () => {
    const { port, env } = delayedDeliveryOf('Producer', { now: Date.now });
    const reminders = channelFromEnvironment('reminders', env);
    const message = PaymentDue.create({ orderId: 'o-sqs-delay' });
    const before = (await admin.scheduler.send(new ListSchedulesCommand({}))).Schedules?.length;
    expect((await port.deliverAfter(reminders, message, 2_000)).via).toBe('sqs-delay');
    expect((await admin.scheduler.send(new ListSchedulesCommand({}))).Schedules?.length).toBe(before);
    const queueUrl = (reminders as { queueUrl: string }).queueUrl;
    expect(await receive(queueUrl)).toEqual([]);
    const [delivered] = await receiveWithin(queueUrl, 5_000);
    expect(attribute(delivered!, Object.keys(message.headers)[0]!)).toBe(Object.values(message.headers)[0]);
  });

  test('a create whose response was lost is retried by the SDK and answered ConflictException: success, one schedule, one delivery', async () => {
    const { port, env, clients } = delayedDeliveryOf('Producer');
    // The first CreateSchedule is applied, then its response is lost as a 500 the SDK retries.
    const faults = injectFaults(clients.scheduler, {
      commands: ['CreateScheduleCommand'],
      times: 1,
      when: 'after',
      error: () =>
        new InternalServerException({
          Message: 'lost response',
          message: 'lost response',
          $metadata: { httpStatusCode: 500 },
        }),
    });
    const reminders = channelFromEnvironment('reminders', env);
    const message = PaymentDue.create({ orderId: 'o-retried' });
    const result = await port.deliverAfter(reminders, message, HOUR);
    expect(faults.injected).toBe(1);
    expect(faults.calls).toBe(2);
    // alreadyScheduled comes only from a ConflictException: the retry met the schedule the first attempt made.
    expect(result).toMatchObject({ via: 'scheduler', alreadyScheduled: true });
    await expect(
      admin.scheduler.send(
        new CreateScheduleCommand(
          createScheduleInput(
            reminders,
            message,
            new Date(scheduler.now() + HOUR),
            schedulerSettingsFromEnvironment(env),
          ),
        ),
      ),
    ).rejects.toBeInstanceOf(ConflictException);
    const listed = await admin.scheduler.send(
      new ListSchedulesCommand({
        GroupName: env.SWITCHYARD_SCHEDULER_GROUP,
        NamePrefix: result.scheduleName,
      }),
    );
    expect(listed.Schedules).toHaveLength(1);
    await scheduler.advanceClock(HOUR + 1_000);
    const queueUrl = (reminders as { queueUrl: string }).queueUrl;
    const delivered = await receiveWithin(queueUrl);
    expect(delivered.map((m) => JSON.parse(m.Body!).orderId)).toEqual(['o-retried']);
    expect(await receiveWithin(queueUrl, 500)).toEqual([]);
  });

  test('a throttled CreateSchedule ($fault client) is retried until it goes through', async () => {
    const { env, clients } = actingAs('Producer', { maxAttempts: 1 });
    const port = createDelayedDelivery({
      ...clients,
      settings: schedulerSettingsFromEnvironment(env),
      now: () => scheduler.now(),
      baseDelayMs: 1,
      maxAttempts: 3,
    });
    const faults = injectFaults(clients.scheduler, {
      commands: ['CreateScheduleCommand'],
      times: 2,
      error: () =>
        new ThrottlingException({
          Message: 'Rate exceeded',
          message: 'Rate exceeded',
          $metadata: { httpStatusCode: 429 },
        }),
    });
    expect(new ThrottlingException({ Message: '', message: '', $metadata: {} }).$fault).toBe('client');
    const message = PaymentDue.create({ orderId: 'o-throttled' });
    const result = await port.deliverAfter(channelFromEnvironment('reminders', env), message, DAY);
    expect(faults.calls).toBe(3);
    expect(result.alreadyScheduled).toBeUndefined();
    const stored = await admin.scheduler.send(
      new GetScheduleCommand({ Name: result.scheduleName!, GroupName: env.SWITCHYARD_SCHEDULER_GROUP }),
    );
    expect(stored.Name).toBe(result.scheduleName);
    await scheduler.advanceClock(DAY + 1_000);
    const delivered = await receiveWithin(
      (channelFromEnvironment('reminders', env) as { queueUrl: string }).queueUrl,
    );
    expect(delivered.map((m) => JSON.parse(m.Body!).orderId)).toEqual(['o-throttled']);
  });

  test('a function without the grant is denied scheduler:CreateSchedule; passing another role is denied iam:PassRole', async () => {
    const outsider = delayedDeliveryOf('Outsider');
    const reminders = channelFromEnvironment('reminders', outsider.env);
    await expect(
      outsider.port.deliverAfter(reminders, PaymentDue.create({ orderId: 'o-denied' }), DAY),
    ).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringContaining('scheduler:CreateSchedule'),
    });
    const outsiderRole = cloud.findFunction('Outsider').roleArn!;
    const producer = delayedDeliveryOf('Producer');
    const wrongRole = createDelayedDelivery({
      ...actingAs('Producer').clients,
      settings: { ...schedulerSettingsFromEnvironment(producer.env), roleArn: outsiderRole },
      now: () => scheduler.now(),
    });
    await expect(
      wrongRole.deliverAfter(reminders, PaymentDue.create({ orderId: 'o-pass' }), DAY),
    ).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringContaining('iam:PassRole'),
    });
    const denied = cloud.denials().map((d) => `${d.action} ${d.principal.split('/').pop()}`);
    expect(denied).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^scheduler:CreateSchedule .*Outsider/),
        expect.stringMatching(/^iam:PassRole .*Producer/),
      ]),
    );
  });

  test('a due delivery the Scheduler role may not make lands in the schedule DLQ with its error', async () => {
    const { port, env } = delayedDeliveryOf('Producer');
    const unrelated = channelFromEnvironment('unrelated', env);
    const message = PaymentDue.create({ orderId: 'o-refused' });
    await port.deliverAfter(unrelated, message, 2 * HOUR);
    await scheduler.advanceClock(2 * HOUR + 1_000);
    // The on-call tools find it by its tag and say why (peek leaves the message in place).
    const dlqUrl = String(cloud.outputs().SchedulerDlqUrl);
    const dlq = deadLetterQueues(await listQueues(admin.sqs)).find((d) => d.queue.url === dlqUrl);
    expect(dlq?.kind).toBe('scheduler-dead-letter-queue');
    const [shown] = await peek(admin.sqs, dlq!, 10);
    expect(shown).toMatchObject({ messageId: message.id, type: 'PaymentDue' });
    expect(shown!.reason).toMatch(
      /^EventBridge Scheduler could not deliver to .*: AccessDenied: .*sqs:SendMessage/,
    );
    const dlqName = dlqUrl.split('/').pop()!;
    const out: string[] = [];
    const err: string[] = [];
    const output = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
    expect(await main(['dlq', 'list', '--endpoint', snsSqsEndpoint(), '--prefix', dlqName], output)).toBe(0);
    expect(out.join('\n')).toMatch(new RegExp(`${dlqName}\\s+scheduled deliveries\\s+1`));
    expect(await main(['dlq', 'redrive', dlqName, '--endpoint', snsSqsEndpoint()], output)).not.toBe(0);
    expect(err.join('\n')).toContain("EventBridge Scheduler's failed deliveries");
    const [dead] = await receiveWithin(dlqUrl);
    expect(attribute(dead!, 'ERROR_CODE')).toBe('AccessDenied');
    expect(attribute(dead!, 'ERROR_MESSAGE')).toContain('sqs:SendMessage');
    expect(JSON.parse(dead!.Body!)).toMatchObject({ QueueUrl: (unrelated as { queueUrl: string }).queueUrl });
    expect(await receiveWithin((unrelated as { queueUrl: string }).queueUrl, 500)).toEqual([]);
  });

  test('a reply gatherer with a two-hour deadline: the deadline message arrives at T and completes the gathering', async () => {
    const { port, env, clients } = delayedDeliveryOf('Producer');
    const dynamodb = new DynamoDBClient({
      endpoint: cloud.endpoints.dynamodb,
      region: cloud.region,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    destroyable.push(dynamodb);
    const table = uniqueName('gatherings');
    await dynamodb.send(
      new CreateTableCommand({
        TableName: table,
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    const queueUrl = (channelFromEnvironment('reminders', env) as { queueUrl: string }).queueUrl;
    const gatherer = createGatherer({
      name: 'slow-quotes',
      reply: PaymentDue,
      table,
      queueUrl,
      dynamodb,
      sqs: clients.sqs,
      delayedDelivery: port,
      clock: () => scheduler.now(),
      resultChannel: { type: 'point-to-point', queueUrl },
      complete: (g) => PaymentDue.create({ orderId: g.requestId }),
    });
    const request = PaymentDue.create({ orderId: 'o-gather' });
    await gatherer.open(request, { expectedReplies: 2, deadlineMs: 2 * HOUR });
    await scheduler.advanceClock(2 * HOUR - 10_000);
    expect(await receiveWithin(queueUrl, 500)).toEqual([]);
    await scheduler.advanceClock(11_000);
    const [deadline] = await receiveWithin(queueUrl);
    expect(JSON.parse(deadline!.Body!)).toEqual({ requestId: request.id, gatherer: 'slow-quotes' });
    expect(await gatherer.expire(request.id)).toBe('completed');
    expect((await gatherer.read(request.id))?.status).toBe('COMPLETE');
  });

  test('refuses T more than a year ahead and a schedule input over 256 KiB; a T in the past is sent at once', async () => {
    const { port, env } = delayedDeliveryOf('Producer');
    const reminders = channelFromEnvironment('reminders', env);
    await expect(
      port.deliverAfter(reminders, PaymentDue.create({ orderId: 'o-far' }), 367 * DAY),
    ).rejects.toThrow(DelayedDeliveryError);
    await expect(
      port.deliverAfter(reminders, PaymentDue.create({ orderId: 'o-big', note: 'x'.repeat(300_000) }), DAY),
    ).rejects.toThrow(/schedule input of \d+ bytes; EventBridge Scheduler accepts at most 262144/);
    const past = await port.deliverAt(
      reminders,
      PaymentDue.create({ orderId: 'o-past' }),
      new Date(scheduler.now() - HOUR),
    );
    expect(past.via).toBe('immediate');
    const [now] = await receiveWithin((reminders as { queueUrl: string }).queueUrl);
    expect(JSON.parse(now!.Body!)).toEqual({ orderId: 'o-past' });
  });
});
