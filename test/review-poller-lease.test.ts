import { SQSClient } from '@aws-sdk/client-sqs';
import type { DeserializeHandler, DeserializeHandlerArguments, HandlerExecutionContext } from '@smithy/types';
import { createPollingPublisher } from '../lambdas/outbox';
import { createProducer } from '../lambdas/producer';
import {
  createOutboxTable,
  createQueue,
  orderEvent,
  writeOutboxItems as writeOutbox,
} from './support/outbox-fixtures';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const keyAttributes = { partitionKey: 'pk', sortKey: 'sk' };

/** An SQS client whose SendMessageBatch requests take `ms` longer; records who sent when. */
function slowSqs(
  name: string,
  ms: number,
  log: { who: string; start: number; end: number }[],
  onRequest: (n: number) => void = () => undefined,
) {
  let requests = 0;
  const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
  (sqs.middlewareStack as unknown as { add(m: unknown, o: unknown): void }).add(
    (next: DeserializeHandler<object, object>, context: HandlerExecutionContext) =>
      async (args: DeserializeHandlerArguments<object>) => {
        if (context.commandName !== 'SendMessageBatchCommand') return next(args);
        const start = Date.now();
        onRequest(++requests);
        await new Promise((resolve) => setTimeout(resolve, ms));
        const result = await next(args);
        log.push({ who: name, start, end: Date.now() });
        return result;
      },
    { step: 'deserialize', name: `reviewSlow${name}`, priority: 'high' },
  );
  return sqs;
}

describe('review: poller lease fencing inside one chunk', () => {
  it('a second poller never publishes an aggregate while the first still does', async () => {
    const table = await createOutboxTable();
    const fifo = await createQueue('review-lease', true);
    const messages = Array.from({ length: 6 }, (_, i) => orderEvent('lease', i + 1));
    await writeOutbox(table, 'lease', messages, fifo);
    const log: { who: string; start: number; end: number }[] = [];
    // B starts when A begins its fourth request of the chunk: over 3 s after A's first renew of it,
    // past the 2.5 s lease. (Requests of 1 s against a 2.5 s lease leave 1.5 s for the renew and
    // DynamoDB calls around each request: the first version, 300 ms against 500 ms, lost the lease
    // before the first request on a loaded machine.)
    let startB: () => void = () => undefined;
    const aInThirdRequest = new Promise<void>((resolve) => {
      startB = resolve;
    });
    const poller = (who: string) =>
      createPollingPublisher({
        producer: createProducer({
          sqs: slowSqs(who, 1000, log, (n) => {
            if (who === 'A' && n === 4) startB();
          }),
        }),
        table,
        keyAttributes,
        logger: quiet,
        leaseMs: 2500,
        owner: who,
      });
    const a = poller('A').poll();
    await Promise.race([aInThirdRequest, a]);
    const b = poller('B').poll();
    const [outA, outB] = await Promise.all([a, b]);
    const sentBy = (who: string) => log.filter((l) => l.who === who);
    expect(sentBy('A').length).toBeGreaterThan(0);
    // No request of B overlaps a request of A: one publisher per aggregate at a time.
    const aEnd = Math.max(...sentBy('A').map((l) => l.end));
    const bStart = Math.min(...sentBy('B').map((l) => l.start), Number.POSITIVE_INFINITY);
    expect(bStart).toBeGreaterThanOrEqual(aEnd);
    // And each row is published by one poller only.
    expect(outA.published + outB.published).toBe(messages.length);
  });
});
