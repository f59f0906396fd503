/**
 * The check both abandoned-long-poll tests make, on whatever path `sqs` takes to the emulator: a
 * long poll aborted by its caller must not take the message that arrives right after.
 */
import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';

export async function expectAbortedPollsTakeNothing(
  sqs: SQSClient,
  QueueUrl: string,
  rounds: number,
  nextReceiveWaitSeconds: number,
): Promise<void> {
  // Several rounds: the abort and the send race each other to the emulator.
  for (let round = 0; round < rounds; round += 1) {
    // GIVEN a long poll on the empty queue, aborted by its caller
    const abort = new AbortController();
    const poll = sqs
      .send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 20 }), { abortSignal: abort.signal })
      .catch((error: Error) => error.name);
    await new Promise((resolve) => setTimeout(resolve, 200));
    abort.abort();
    expect(await poll).toBe('AbortError');
    // WHEN a message arrives at once
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: `after-abort-${round}` }));
    // THEN the next receive gets it on its first receive (the abandoned poll took nothing)
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl,
        WaitTimeSeconds: nextReceiveWaitSeconds,
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
    );
    expect(Messages.map((m) => `${m.Body}#${m.Attributes?.ApproximateReceiveCount}`)).toEqual([
      `after-abort-${round}#1`,
    ]);
    await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: Messages[0]?.ReceiptHandle }));
  }
}
