/**
 * SQS's message move tasks (StartMessageMoveTask, ListMessageMoveTasks, CancelMessageMoveTask) for
 * the local cloud: fauxqs 1.9 has none, so `switchyard dlq redrive` (and any code that redrives a
 * DLQ the AWS way) could not run its AWS path locally. The gateway answers these three operations
 * here; the task moves messages through the upstream's ordinary SQS API: receive from the DLQ, send
 * to the destination, then delete, so a failure at any point leaves a message in one queue or (sent,
 * not yet deleted) in both, never in neither.
 *
 * As SQS documents it: the source must be the DLQ of another queue; without DestinationArn messages
 * go back to their source queue; one running task per source; the rate cap is
 * MaxNumberOfMessagesPerSecond (at most 500); the task moves the messages that were in the DLQ when
 * it started; FIFO messages keep their group and deduplication ids (one the destination would drop as
 * a duplicate goes with its message id, the id SQS gives a FIFO letter), in the DLQ's order; cancelling
 * stops after the message in hand and keeps what was moved.
 * Not emulated: SQS takes each message's original source from its DeadLetterQueueSourceArn, which
 * fauxqs does not record, so a DLQ shared by several queues needs an explicit DestinationArn here.
 */
import { randomUUID } from 'node:crypto';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { ServiceError } from '../iam/aws-errors';
import { sendableAttributes } from './message-attributes';

export const MOVE_TASK_OPERATIONS = new Set([
  'StartMessageMoveTask',
  'ListMessageMoveTasks',
  'CancelMessageMoveTask',
]);

type Status = 'RUNNING' | 'COMPLETED' | 'CANCELLING' | 'CANCELLED' | 'FAILED';

interface Task {
  readonly handle: string;
  readonly sourceArn: string;
  readonly destinationArn?: string;
  readonly maxPerSecond?: number;
  readonly startedAt: number;
  readonly toMove: number;
  status: Status;
  moved: number;
  failureReason?: string;
  cancelRequested: boolean;
  finished?: Promise<void>;
}

export type MoveTaskAnswer =
  | { readonly ok: true; readonly body: Record<string, unknown> }
  | { readonly ok: false; readonly error: ServiceError };

const MAX_RATE = 500;
/** How long a message in hand stays hidden from other receivers while it is moved. */
const HOLD_SECONDS = 30;

/** The source queue ARN a task handle names (the handle is opaque to callers, as on AWS). */
export function sourceOfTaskHandle(handle: string): string | undefined {
  try {
    const decoded = JSON.parse(Buffer.from(handle, 'base64url').toString('utf8')) as { source?: unknown };
    return typeof decoded.source === 'string' ? decoded.source : undefined;
  } catch {
    return undefined;
  }
}

export class MessageMoveTasks {
  private readonly tasks: Task[] = [];

  constructor(private readonly sqs: SQSClient) {}

  async answer(operation: string, input: Record<string, unknown>): Promise<MoveTaskAnswer> {
    try {
      if (operation === 'StartMessageMoveTask') return await this.start(input);
      if (operation === 'ListMessageMoveTasks') return this.list(input);
      return this.cancel(input);
    } catch (error) {
      if (isServiceError(error)) return { ok: false, error };
      throw error;
    }
  }

  /** Cancels every running task and waits for them (the local cloud is stopping). */
  async stop(): Promise<void> {
    for (const task of this.tasks) if (task.status === 'RUNNING') task.cancelRequested = true;
    await Promise.all(this.tasks.map((t) => t.finished));
  }

  private async start(input: Record<string, unknown>): Promise<MoveTaskAnswer> {
    const sourceArn = requiredString(input, 'SourceArn');
    const rate = input.MaxNumberOfMessagesPerSecond;
    if (
      rate !== undefined &&
      (!Number.isInteger(rate) || (rate as number) < 1 || (rate as number) > MAX_RATE)
    ) {
      throw invalid(
        `MaxNumberOfMessagesPerSecond must be a whole number from 1 to ${MAX_RATE}, got ${String(rate)}.`,
      );
    }
    const sourceUrl = await this.urlOf(sourceArn, 'SourceArn');
    const feeding = await this.queuesFeeding(sourceArn);
    if (feeding.length === 0) {
      throw unsupported(
        `Source queue ${sourceArn} must be configured as a dead-letter queue of another queue.`,
      );
    }
    let destinationArn = typeof input.DestinationArn === 'string' ? input.DestinationArn : undefined;
    if (destinationArn !== undefined) await this.urlOf(destinationArn, 'DestinationArn');
    const target = destinationArn ?? (feeding.length === 1 ? feeding[0] : undefined);
    if (target === undefined) {
      throw unsupported(
        `${sourceArn} is the dead-letter queue of ${feeding.length} queues, and the local cloud cannot tell which one ` +
          'each message came from (the emulator records no DeadLetterQueueSourceArn). Pass DestinationArn.',
      );
    }
    if (isFifoArn(sourceArn) !== isFifoArn(target)) {
      throw invalid(
        `Source ${sourceArn} and destination ${target} must both be FIFO queues or both standard queues.`,
      );
    }
    if (
      this.tasks.some(
        (t) => t.sourceArn === sourceArn && (t.status === 'RUNNING' || t.status === 'CANCELLING'),
      )
    ) {
      throw unsupported(
        `A message movement task is already running on ${sourceArn}; only one may run per queue.`,
      );
    }
    destinationArn = destinationArn ?? undefined;
    const depth = await this.depthOf(sourceUrl);
    const task: Task = {
      handle: Buffer.from(JSON.stringify({ task: randomUUID(), source: sourceArn }), 'utf8').toString(
        'base64url',
      ),
      sourceArn,
      destinationArn,
      maxPerSecond: rate as number | undefined,
      startedAt: Date.now(),
      toMove: depth,
      status: 'RUNNING',
      moved: 0,
      cancelRequested: false,
    };
    this.tasks.push(task);
    const targetUrl = await this.urlOf(target, 'DestinationArn');
    task.finished = this.run(task, sourceUrl, targetUrl, isFifoArn(target));
    return { ok: true, body: { TaskHandle: task.handle } };
  }

  private list(input: Record<string, unknown>): MoveTaskAnswer {
    const sourceArn = requiredString(input, 'SourceArn');
    const max = input.MaxResults === undefined ? 1 : Number(input.MaxResults);
    if (!Number.isInteger(max) || max < 1 || max > 10)
      throw invalid(`MaxResults must be 1 to 10, got ${String(input.MaxResults)}.`);
    const results = this.tasks
      .filter((t) => t.sourceArn === sourceArn)
      .reverse()
      .slice(0, max)
      .map((t) => ({
        ...(t.status === 'RUNNING' ? { TaskHandle: t.handle } : {}),
        Status: t.status,
        SourceArn: t.sourceArn,
        ...(t.destinationArn ? { DestinationArn: t.destinationArn } : {}),
        ...(t.maxPerSecond !== undefined ? { MaxNumberOfMessagesPerSecond: t.maxPerSecond } : {}),
        ApproximateNumberOfMessagesMoved: t.moved,
        ApproximateNumberOfMessagesToMove: t.toMove,
        ...(t.failureReason ? { FailureReason: t.failureReason } : {}),
        StartedTimestamp: t.startedAt,
      }));
    return { ok: true, body: { Results: results } };
  }

  private cancel(input: Record<string, unknown>): MoveTaskAnswer {
    const handle = requiredString(input, 'TaskHandle');
    const task = this.tasks.find((t) => t.handle === handle);
    if (task?.status !== 'RUNNING') {
      throw notFound(`No running message movement task has the handle ${handle}.`);
    }
    task.cancelRequested = true;
    task.status = 'CANCELLING';
    return { ok: true, body: { ApproximateNumberOfMessagesMoved: task.moved } };
  }

  private async run(task: Task, sourceUrl: string, targetUrl: string, fifo: boolean): Promise<void> {
    const startedAt = Date.now();
    let emptyReceives = 0;
    try {
      while (!task.cancelRequested && task.moved < task.toMove && emptyReceives < 3) {
        const { Messages = [] } = await this.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: sourceUrl,
            MaxNumberOfMessages: Math.min(10, task.toMove - task.moved),
            VisibilityTimeout: HOLD_SECONDS,
            WaitTimeSeconds: 0,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
        );
        emptyReceives = Messages.length === 0 ? emptyReceives + 1 : 0;
        if (Messages.length === 0) await sleep(100);
        for (let i = 0; i < Messages.length; i++) {
          if (task.cancelRequested) {
            await this.release(sourceUrl, Messages.slice(i));
            break;
          }
          await this.moveOne(Messages[i]!, sourceUrl, targetUrl, fifo);
          task.moved += 1;
          if (task.maxPerSecond) {
            const due = startedAt + (task.moved * 1000) / task.maxPerSecond;
            if (due > Date.now()) await sleep(due - Date.now());
          }
        }
      }
      task.status = task.cancelRequested ? 'CANCELLED' : 'COMPLETED';
    } catch (error) {
      task.status = 'FAILED';
      task.failureReason = `${(error as Error).name}: ${(error as Error).message}`;
    }
  }

  private async moveOne(
    message: Message,
    sourceUrl: string,
    targetUrl: string,
    fifo: boolean,
  ): Promise<void> {
    const send = (deduplicationId: string | undefined) =>
      this.sqs.send(
        new SendMessageCommand({
          QueueUrl: targetUrl,
          MessageBody: message.Body ?? '',
          MessageAttributes: sendableAttributes(message.MessageAttributes),
          ...(fifo
            ? { MessageGroupId: message.Attributes?.MessageGroupId, MessageDeduplicationId: deduplicationId }
            : {}),
        }),
      );
    const sent = await send(message.Attributes?.MessageDeduplicationId);
    // SQS gives a letter dead-lettered from a FIFO queue its message id as deduplication id, so its
    // source never drops it on the way back; fauxqs keeps the original id, and its source, inside the
    // 5-minute window, answers with the id it already holds and drops the copy. Send it as SQS would.
    if (fifo && sent.MessageId !== undefined && sent.MessageId === message.MessageId)
      await send(message.MessageId);
    await this.sqs.send(
      new DeleteMessageCommand({ QueueUrl: sourceUrl, ReceiptHandle: message.ReceiptHandle }),
    );
  }

  private async release(queueUrl: string, messages: readonly Message[]): Promise<void> {
    for (const m of messages) {
      await this.sqs
        .send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: queueUrl,
            ReceiptHandle: m.ReceiptHandle,
            VisibilityTimeout: 0,
          }),
        )
        .catch(() => undefined);
    }
  }

  private async urlOf(arn: string, field: string): Promise<string> {
    const name = arn.split(':')[5];
    if (!arn.startsWith('arn:') || !name) throw invalid(`${field} "${arn}" is not an SQS queue ARN.`);
    try {
      const { QueueUrl } = await this.sqs.send(new GetQueueUrlCommand({ QueueName: name }));
      return QueueUrl!;
    } catch {
      throw notFound(`The resource that you specified for the ${field} parameter doesn't exist: ${arn}.`);
    }
  }

  private async depthOf(queueUrl: string): Promise<number> {
    const { Attributes = {} } = await this.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    return Number(Attributes.ApproximateNumberOfMessages ?? 0);
  }

  /** ARNs of the queues whose redrive policy names `dlqArn`. */
  private async queuesFeeding(dlqArn: string): Promise<string[]> {
    const feeding: string[] = [];
    let NextToken: string | undefined;
    do {
      const page = await this.sqs.send(new ListQueuesCommand({ NextToken, MaxResults: 1000 }));
      for (const url of page.QueueUrls ?? []) {
        const { Attributes = {} } = await this.sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn', 'RedrivePolicy'] }),
        );
        if (!Attributes.RedrivePolicy) continue;
        const policy = JSON.parse(Attributes.RedrivePolicy) as { deadLetterTargetArn?: string };
        if (policy.deadLetterTargetArn === dlqArn && Attributes.QueueArn) feeding.push(Attributes.QueueArn);
      }
      NextToken = page.NextToken;
    } while (NextToken);
    return feeding;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const isFifoArn = (arn: string) => arn.endsWith('.fifo');

function requiredString(input: Record<string, unknown>, field: string): string {
  const value = input[field];
  if (typeof value !== 'string' || value === '') throw invalid(`${field} is required.`);
  return value;
}

function invalid(message: string): ServiceError {
  return {
    code: 'InvalidParameterValue',
    sqsType: 'com.amazonaws.sqs#InvalidParameterValueException',
    message,
  };
}
function unsupported(message: string): ServiceError {
  return {
    code: 'AWS.SimpleQueueService.UnsupportedOperation',
    sqsType: 'com.amazonaws.sqs#UnsupportedOperation',
    message,
  };
}
function notFound(message: string): ServiceError {
  return {
    code: 'ResourceNotFoundException',
    sqsType: 'com.amazonaws.sqs#ResourceNotFoundException',
    message,
  };
}
function isServiceError(error: unknown): error is ServiceError {
  return (
    typeof error === 'object' &&
    error !== null &&
    'code' in error &&
    'message' in error &&
    !(error instanceof Error)
  );
}
