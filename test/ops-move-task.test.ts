/**
 * The SQS message move task path of `dlq redrive` (AWS only: fauxqs 1.9 has no StartMessageMoveTask,
 * so this is the one place the SQS client is a stand-in that answers as the SQS API documents).
 */
import {
  CancelMessageMoveTaskCommand,
  ListMessageMoveTasksCommand,
  type SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import type { DeadLetterQueue, QueueInfo } from '../cli/ops/queues';
import { redriveWithMoveTask } from '../cli/ops/redrive';
import { silentProgress } from '../local/workload/progress';

const queueInfo = (name: string): QueueInfo => ({
  url: `https://sqs.eu-west-1.amazonaws.com/123456789012/${name}`,
  arn: `arn:aws:sqs:eu-west-1:123456789012:${name}`,
  name,
  fifo: false,
  depth: 50,
  inFlight: 0,
  tags: {},
});
const dlq: DeadLetterQueue = {
  queue: queueInfo('kitchen-dlq'),
  sources: [queueInfo('kitchen')],
  kind: 'dead-letter-queue',
};

/** Answers Start/List/Cancel like SQS: the task moves 20 messages per poll until done or cancelled. */
function fakeSqs(): { client: SQSClient; sent: unknown[] } {
  const sent: unknown[] = [];
  let moved = 0;
  let status = 'RUNNING';
  const client = {
    send: async (command: unknown) => {
      sent.push(command);
      if (command instanceof StartMessageMoveTaskCommand) return { TaskHandle: 'handle-1' };
      if (command instanceof CancelMessageMoveTaskCommand) {
        status = 'CANCELLED';
        return { ApproximateNumberOfMessagesMoved: moved };
      }
      if (command instanceof ListMessageMoveTasksCommand) {
        if (status === 'RUNNING') moved = Math.min(50, moved + 20);
        if (moved === 50 && status === 'RUNNING') status = 'COMPLETED';
        return { Results: [{ Status: status, ApproximateNumberOfMessagesMoved: moved }] };
      }
      throw new Error(`unexpected ${String(command)}`);
    },
  } as unknown as SQSClient;
  return { client, sent };
}

describe('dlq redrive with the SQS message move task', () => {
  test('starts a task from the DLQ to the named source and follows it to the end', async () => {
    const { client, sent } = fakeSqs();
    const summary = await redriveWithMoveTask({
      sqs: client,
      dlq,
      destination: dlq.sources[0]!,
      progress: silentProgress,
      pollMs: 1,
    });
    expect(summary).toMatchObject({ method: 'message-move-task', moved: 50, interrupted: false, failed: [] });
    const start = sent[0] as StartMessageMoveTaskCommand;
    expect(start.input).toEqual({
      SourceArn: dlq.queue.arn,
      DestinationArn: dlq.sources[0]!.arn,
      MaxNumberOfMessagesPerSecond: undefined,
    });
  });

  test('cancels the task when stopped; what was moved stays moved', async () => {
    const { client, sent } = fakeSqs();
    const controller = new AbortController();
    controller.abort();
    const summary = await redriveWithMoveTask({
      sqs: client,
      dlq,
      destination: dlq.sources[0]!,
      signal: controller.signal,
      progress: silentProgress,
      pollMs: 1,
    });
    expect(sent.some((c) => c instanceof CancelMessageMoveTaskCommand)).toBe(true);
    expect(summary).toMatchObject({ interrupted: true, moved: 0 });
  });
});
