/**
 * SQS message move tasks over the wire: the local cloud's gateway answers StartMessageMoveTask,
 * ListMessageMoveTasks and CancelMessageMoveTask as SQS documents them (fauxqs has none), so the
 * AWS path of `switchyard dlq redrive` runs here: a whole DLQ moved back, a task cancelled half
 * way (moved messages stay moved, the rest stay in the DLQ, none in both), FIFO groups in order with
 * their ids, SQS's errors as the SDK's classes, and IAM applied to the caller.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CancelMessageMoveTaskCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListMessageMoveTasksCommand,
  type Message,
  ReceiveMessageCommand,
  ResourceNotFoundException,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
  UnsupportedOperation,
} from '@aws-sdk/client-sqs';
import { App, CfnOutput, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { main } from '../bin/cli';
import { deadLetterQueues, describeQueue, listQueues } from '../cli/ops/queues';
import { redriveWithMoveTask } from '../cli/ops/redrive';
import { LocalCloud } from '../local/cloud';
import { sessionOf, writeSession } from '../local/session';
import { silentProgress } from '../local/workload/progress';
import { drainQueue } from './support/drain-queue';
import { dynamodbEndpoint, snsSqsEndpoint, uniqueName } from './support/emulators';

const stackName = uniqueName('MoveTasks');

function synthesize(): string {
  const outdir = mkdtempSync(join(tmpdir(), 'switchyard-move-tasks-'));
  const app = new App({ outdir });
  const stack = new Stack(app, stackName);
  const pair = (id: string, fifo: boolean) => {
    const dlq = new sqs.Queue(stack, `${id}Dlq`, { fifo: fifo || undefined });
    const work = new sqs.Queue(stack, `${id}Work`, {
      fifo: fifo || undefined,
      deadLetterQueue: { queue: dlq, maxReceiveCount: 1 },
    });
    new CfnOutput(stack, `${id}DlqArn`, { value: dlq.queueArn });
    new CfnOutput(stack, `${id}WorkArn`, { value: work.queueArn });
    return { dlq, work };
  };
  pair('All', false);
  pair('Stop', false);
  pair('Group', true);
  pair('Young', true);
  const denied = pair('Denied', false);
  const operator = new iam.Role(stack, 'ReadOnlyOperator', { assumedBy: new iam.AccountRootPrincipal() });
  denied.dlq.grantConsumeMessages(operator);
  new CfnOutput(stack, 'ReadOnlyOperatorArn', { value: operator.roleArn });
  app.synth();
  return outdir;
}

let cloud: LocalCloud;
let o: Record<string, string>;
let client: SQSClient;
const appDir = mkdtempSync(join(tmpdir(), 'switchyard-move-task-app-'));

const urlOf = async (arn: string) =>
  (await client.send(new GetQueueUrlCommand({ QueueName: arn.split(':')[5] }))).QueueUrl!;
const depth = async (arn: string) =>
  Number(
    (
      await client.send(
        new GetQueueAttributesCommand({
          QueueUrl: await urlOf(arn),
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      )
    ).Attributes?.ApproximateNumberOfMessages,
  );

async function fill(arn: string, ids: readonly string[], group?: string) {
  const QueueUrl = await urlOf(arn);
  for (let i = 0; i < ids.length; i += 10) {
    await client.send(
      new SendMessageBatchCommand({
        QueueUrl,
        Entries: ids.slice(i, i + 10).map((id) => ({
          Id: id,
          MessageBody: JSON.stringify({ id }),
          MessageAttributes: { 'message-id': { DataType: 'String', StringValue: id } },
          ...(group ? { MessageGroupId: group, MessageDeduplicationId: `dedup-${id}` } : {}),
        })),
      }),
    );
  }
}

const drain = async (arn: string) => drainQueue(client, await urlOf(arn));
const idsOf = (messages: Message[]) => messages.map((m) => m.MessageAttributes?.['message-id']?.StringValue);

beforeAll(async () => {
  cloud = await LocalCloud.start({
    assemblyDir: synthesize(),
    endpoints: { snsSqs: snsSqsEndpoint(), dynamodb: dynamodbEndpoint() },
    runEventSources: false,
  });
  o = cloud.outputs() as Record<string, string>;
  client = new SQSClient({
    region: 'us-east-1',
    endpoint: cloud.endpoints.snsSqs,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  writeSession(appDir, sessionOf(cloud));
}, 120_000);

afterAll(async () => {
  client?.destroy();
  await cloud?.stop();
});

test("`dlq redrive --local` runs SQS's move task: the whole DLQ goes back to its source, attributes kept", async () => {
  const ids = Array.from({ length: 25 }, (_, i) => `all-${i}`);
  await fill(o.AllDlqArn!, ids);
  const out: string[] = [];
  const err: string[] = [];
  const dlqName = o.AllDlqArn!.split(':')[5]!;
  const code = await main(
    ['dlq', 'redrive', dlqName, '--local', '--app-dir', appDir, '--prefix', stackName],
    {
      out: (l) => out.push(l),
      err: (l) => err.push(l),
    },
  );
  expect(err.join('\n')).not.toMatch(/not moved/);
  expect(code).toBe(0);
  expect(out[0]).toMatch(/^Done \(message-move-task\): moved 25 message\(s\)/);
  expect(await depth(o.AllDlqArn!)).toBe(0);
  expect(idsOf(await drain(o.AllWorkArn!)).sort()).toEqual([...ids].sort());
  const { Results = [] } = await client.send(new ListMessageMoveTasksCommand({ SourceArn: o.AllDlqArn }));
  expect(Results[0]).toMatchObject({
    Status: 'COMPLETED',
    ApproximateNumberOfMessagesMoved: 25,
    ApproximateNumberOfMessagesToMove: 25,
  });
  expect(Results[0]?.TaskHandle).toBeUndefined();
}, 60_000);

test('a cancelled task keeps what it moved; the rest stays in the DLQ; nothing is in both or lost', async () => {
  const ids = Array.from({ length: 40 }, (_, i) => `stop-${i}`);
  await fill(o.StopDlqArn!, ids);
  const dlq = deadLetterQueues(await listQueues(client, stackName)).find(
    (d) => d.queue.arn === o.StopDlqArn,
  )!;
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 1_500);
  const summary = await redriveWithMoveTask({
    sqs: client,
    dlq,
    destination: await describeQueue(client, await urlOf(o.StopWorkArn!)),
    signal: controller.signal,
    progress: silentProgress,
    pollMs: 200,
    maxPerSecond: 10,
  });
  expect(summary.interrupted).toBe(true);
  const { Results = [] } = await client.send(new ListMessageMoveTasksCommand({ SourceArn: o.StopDlqArn }));
  expect(Results[0]?.Status).toBe('CANCELLED');
  const moved = idsOf(await drain(o.StopWorkArn!));
  const left = idsOf(await drain(o.StopDlqArn!));
  expect(moved.length).toBeGreaterThan(0);
  expect(moved.length).toBeLessThan(40);
  expect(moved.length).toBe(Results[0]?.ApproximateNumberOfMessagesMoved);
  expect([...moved, ...left].sort()).toEqual([...ids].sort());
}, 60_000);

test('FIFO: the task moves a group in order, with its group and deduplication ids', async () => {
  const ids = Array.from({ length: 12 }, (_, i) => `g-${String(i).padStart(2, '0')}`);
  await fill(o.GroupDlqArn!, ids, 'order-1');
  await client.send(new StartMessageMoveTaskCommand({ SourceArn: o.GroupDlqArn }));
  for (let i = 0; i < 50; i++) {
    const { Results = [] } = await client.send(new ListMessageMoveTasksCommand({ SourceArn: o.GroupDlqArn }));
    if (Results[0]?.Status !== 'RUNNING') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const moved = await drain(o.GroupWorkArn!);
  expect(idsOf(moved)).toEqual(ids);
  for (const m of moved) {
    expect(m.Attributes?.MessageGroupId).toBe('order-1');
    expect(m.Attributes?.MessageDeduplicationId).toBe(
      `dedup-${m.MessageAttributes?.['message-id']?.StringValue}`,
    );
  }
});

test('FIFO: a letter dead-lettered inside its deduplication window is moved, not dropped by the source', async () => {
  const workUrl = await urlOf(o.YoungWorkArn!);
  await client.send(
    new SendMessageCommand({
      QueueUrl: workUrl,
      MessageBody: JSON.stringify({ id: 'young-1' }),
      MessageAttributes: { 'message-id': { DataType: 'String', StringValue: 'young-1' } },
      MessageGroupId: 'order-9',
      MessageDeduplicationId: 'dedup-young-1',
    }),
  );
  // The consumer fails it once (maxReceiveCount 1): the next receive dead-letters it.
  await client.send(new ReceiveMessageCommand({ QueueUrl: workUrl, VisibilityTimeout: 0 }));
  expect((await client.send(new ReceiveMessageCommand({ QueueUrl: workUrl }))).Messages ?? []).toEqual([]);
  expect(await depth(o.YoungDlqArn!)).toBe(1);
  await client.send(new StartMessageMoveTaskCommand({ SourceArn: o.YoungDlqArn }));
  for (let i = 0; i < 50; i++) {
    const { Results = [] } = await client.send(new ListMessageMoveTasksCommand({ SourceArn: o.YoungDlqArn }));
    if (Results[0]?.Status !== 'RUNNING') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const moved = idsOf(await drain(o.YoungWorkArn!));
  const left = idsOf(await drain(o.YoungDlqArn!));
  expect(moved).toEqual(['young-1']);
  expect(left).toEqual([]);
});

test("SQS's errors: not a DLQ, a second task on one queue, an unknown handle", async () => {
  await expect(
    client.send(new StartMessageMoveTaskCommand({ SourceArn: o.AllWorkArn })),
  ).rejects.toBeInstanceOf(UnsupportedOperation);
  await fill(
    o.StopDlqArn!,
    Array.from({ length: 20 }, (_, i) => `twice-${i}`),
  );
  const { TaskHandle } = await client.send(
    new StartMessageMoveTaskCommand({ SourceArn: o.StopDlqArn, MaxNumberOfMessagesPerSecond: 2 }),
  );
  await expect(client.send(new StartMessageMoveTaskCommand({ SourceArn: o.StopDlqArn }))).rejects.toThrow(
    /already running/,
  );
  await client.send(new CancelMessageMoveTaskCommand({ TaskHandle }));
  await expect(client.send(new CancelMessageMoveTaskCommand({ TaskHandle }))).rejects.toBeInstanceOf(
    ResourceNotFoundException,
  );
  await expect(
    client.send(new StartMessageMoveTaskCommand({ SourceArn: `${o.AllDlqArn}-missing` })),
  ).rejects.toBeInstanceOf(ResourceNotFoundException);
});

test('IAM: a role that may only consume the DLQ cannot start a move task', async () => {
  const identity = cloud.strict!.credentials.issue('operator', o.ReadOnlyOperatorArn!);
  const operator = new SQSClient({
    region: 'us-east-1',
    endpoint: cloud.endpoints.snsSqs,
    credentials: { accessKeyId: identity.accessKeyId, secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  try {
    const error = await operator
      .send(new StartMessageMoveTaskCommand({ SourceArn: o.DeniedDlqArn, DestinationArn: o.DeniedWorkArn }))
      .catch((e: Error) => e);
    expect((error as Error).name).toBe('AccessDenied');
    expect((error as Error).message).toContain(`sqs:StartMessageMoveTask on resource: ${o.DeniedDlqArn}`);
  } finally {
    operator.destroy();
  }
});
