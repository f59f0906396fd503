/**
 * The emulator's own SQS round trip with no Switchyard code: send N messages (one call each,
 * `concurrency` in flight), receive them in batches of 10 with a few pollers, delete each batch.
 * Per-message latency is send start -> delete done. The baseline the local e2e figures compare to.
 *
 * @example
 * const raw = await rawSqsRoundTrip(new SQSClient({ endpoint }), 2500);
 * console.log(raw.messagesPerSecond, raw.latency.p99);
 */
import { randomBytes } from 'node:crypto';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { type LatencySummary, summarize } from '../stats';

export interface RoundTripResult {
  readonly messages: number;
  readonly durationMs: number;
  readonly messagesPerSecond: number;
  readonly latency: LatencySummary;
}

export async function rawSqsRoundTrip(
  sqs: SQSClient,
  messages: number,
  options: { senders?: number; pollers?: number } = {},
): Promise<RoundTripResult> {
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({ QueueName: `raw-round-trip-${randomBytes(4).toString('hex')}` }),
  );
  const queueUrl = QueueUrl!;
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  const started = Date.now();
  let next = 0;
  const send = async (): Promise<void> => {
    while (next < messages) {
      const id = String(next++);
      sentAt.set(id, performance.now());
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: JSON.stringify({ id, pad: 'x'.repeat(200) }),
        }),
      );
    }
  };
  const receive = async (): Promise<void> => {
    while (latencies.length < messages) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      if (Messages.length === 0) continue;
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
      const done = performance.now();
      for (const m of Messages) {
        const id = (JSON.parse(m.Body ?? '{}') as { id: string }).id;
        latencies.push(done - (sentAt.get(id) ?? done));
      }
    }
  };
  await Promise.all([
    ...Array.from({ length: options.senders ?? 20 }, send),
    ...Array.from({ length: options.pollers ?? 4 }, receive),
  ]);
  const durationMs = Date.now() - started;
  await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
  return {
    messages,
    durationMs,
    messagesPerSecond: Math.round((messages / (durationMs / 1000)) * 10) / 10,
    latency: summarize(latencies),
  };
}
