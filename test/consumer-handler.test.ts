/** The consumer adapter: dispatch by type, partial batch responses, failure reasons and FIFO groups. */
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import { ConfigurationError, createConsumer, defineCommand, defineEvent, type Message, on } from '../lambdas';
import { fakeContext } from './support/lambda-context';

const OrderPlaced = defineEvent({
  type: 'OrderPlaced',
  schema: z.object({ orderId: z.string(), total: z.number() }),
  partitionKey: (p) => p.orderId,
});
const CancelOrder = defineCommand({ type: 'CancelOrder', schema: z.object({ orderId: z.string() }) });

let counter = 0;

/** An SQS record as Lambda delivers it from a raw-delivery subscription or a direct send. */
function record(options: {
  body: string;
  headers?: Record<string, string>;
  groupId?: string;
  sqsMessageId?: string;
}): SQSRecord {
  counter++;
  const fifo = options.groupId !== undefined;
  return {
    messageId: options.sqsMessageId ?? `sqs-${counter}`,
    receiptHandle: `rh-${counter}`,
    body: options.body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '1700000000000',
      SenderId: 'AIDAEXAMPLE',
      ApproximateFirstReceiveTimestamp: '1700000000001',
      ...(fifo
        ? {
            MessageGroupId: options.groupId,
            SequenceNumber: `${counter}`,
            MessageDeduplicationId: `d${counter}`,
          }
        : {}),
    },
    messageAttributes: Object.fromEntries(
      Object.entries(options.headers ?? {}).map(([k, v]) => [
        k,
        { stringValue: v, stringListValues: [], binaryListValues: [], dataType: 'String' },
      ]),
    ),
    md5OfBody: '0',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:us-east-1:123456789012:orders${fifo ? '.fifo' : ''}`,
    awsRegion: 'us-east-1',
  };
}

/** The record of a real Switchyard message. */
function recordOf(message: Message, extra: { groupId?: string; body?: string } = {}): SQSRecord {
  return record({
    body: extra.body ?? JSON.stringify(message.payload),
    headers: { ...message.headers },
    groupId: extra.groupId,
  });
}

const event = (...records: SQSRecord[]): SQSEvent => ({ Records: records });

/** Captures the JSON lines the default logger writes to stdout. */
function captureLogs() {
  const lines: Record<string, unknown>[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
    return true;
  });
  return { lines, restore: () => spy.mockRestore() };
}

describe('consumer: dispatch and partial batch responses', () => {
  let logs: ReturnType<typeof captureLogs>;
  beforeEach(() => {
    logs = captureLogs();
  });
  afterEach(() => logs.restore());

  it('dispatches each message to the handler of its type and reports no failure', async () => {
    const placed: Message[] = [];
    const cancelled: string[] = [];
    const consumer = createConsumer({
      name: 'kitchen',
      handlers: [
        on(OrderPlaced, (m) => void placed.push(m)),
        on(CancelOrder, async (m, ctx) => {
          cancelled.push(`${ctx.consumerName}:${m.payload.orderId}:${ctx.record.messageId}`);
          ctx.logger.info('cancelled');
        }),
      ],
    });
    const order = OrderPlaced.create({ orderId: 'o-1', total: 3 });
    const cancel = CancelOrder.create({ orderId: 'o-1' }, { causedBy: order });
    const cancelRecord = recordOf(cancel);

    const response = await consumer.handler(event(recordOf(order), cancelRecord), fakeContext());

    expect(response).toEqual({ batchItemFailures: [] });
    expect(consumer.handledTypes).toEqual(['OrderPlaced', 'CancelOrder']);
    expect(placed).toEqual([{ ...order }]);
    expect(cancelled).toEqual([`kitchen:o-1:${cancelRecord.messageId}`]);
    // The handler's logger carries the message's ids.
    expect(logs.lines).toEqual([
      expect.objectContaining({
        level: 'info',
        message: 'cancelled',
        consumer: 'kitchen',
        messageId: cancel.id,
        type: 'CancelOrder',
        correlationId: order.id,
      }),
    ]);
  });

  it.each([
    {
      reason: 'invalid-json',
      make: () => recordOf(OrderPlaced.create({ orderId: 'o', total: 1 }), { body: '{"orderId": "o", ' }),
      error: /Body is not valid JSON/,
    },
    {
      reason: 'missing-type',
      make: () => record({ body: '{"orderId":"o"}' }),
      error: /No message-type message attribute/,
    },
    {
      reason: 'unhandled-type',
      make: () => record({ body: '{}', headers: { 'message-type': 'OrderShipped', 'message-id': 'm-9' } }),
      error: /no handler for OrderShipped \(it handles OrderPlaced\)/,
    },
    {
      reason: 'invalid-payload',
      make: () =>
        recordOf(OrderPlaced.create({ orderId: 'o', total: 1 }), { body: '{"orderId":"o","total":"ten"}' }),
      error: /Payload of OrderPlaced does not match its schema: total:/,
    },
    {
      reason: 'handler-error',
      make: () => recordOf(OrderPlaced.create({ orderId: 'boom', total: 1 })),
      error: /^Error: kitchen on fire$/,
    },
  ])(
    'fails a record with reason $reason, reports it and logs one JSON line',
    async ({ reason, make, error }) => {
      const consumer = createConsumer({
        name: 'kitchen',
        handlers: [
          on(OrderPlaced, (m) => {
            if (m.payload.orderId === 'boom') throw new Error('kitchen on fire');
          }),
        ],
      });
      const bad = make();
      const good = recordOf(OrderPlaced.create({ orderId: 'fine', total: 2 }));

      const response = await consumer.handler(event(bad, good));

      expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: bad.messageId }] });
      expect(logs.lines).toHaveLength(1);
      const line = logs.lines[0]!;
      expect(line).toMatchObject({
        level: 'error',
        consumer: 'kitchen',
        reason,
        sqsMessageId: bad.messageId,
      });
      expect(line.error).toMatch(error);
      const headerOf = (name: string) => bad.messageAttributes[name]?.stringValue;
      expect(line.messageId).toBe(headerOf('message-id') ?? bad.messageId);
      expect(line.type).toBe(headerOf('message-type'));
      expect(line.correlationId).toBe(headerOf('correlation-id'));
    },
  );

  it('reports exactly the failed records of a mixed batch', async () => {
    const handled: string[] = [];
    const consumer = createConsumer({
      name: 'kitchen',
      handlers: [
        on(OrderPlaced, (m) => {
          if (m.payload.total < 0) throw new Error('negative total');
          handled.push(m.payload.orderId);
        }),
      ],
    });
    const records = [
      recordOf(OrderPlaced.create({ orderId: 'a', total: 1 })),
      record({ body: 'not json', headers: { 'message-type': 'OrderPlaced' } }),
      recordOf(OrderPlaced.create({ orderId: 'b', total: -1 })),
      recordOf(OrderPlaced.create({ orderId: 'c', total: 1 })),
      record({ body: '[1,2]' }),
    ];
    const response = await consumer.handler(event(...records));
    expect(response.batchItemFailures).toEqual(
      [1, 2, 4].map((i) => ({ itemIdentifier: records[i]!.messageId })),
    );
    expect(handled).toEqual(['a', 'c']);
    expect(logs.lines.map((l) => l.reason)).toEqual(['invalid-json', 'handler-error', 'missing-type']);
  });

  it('uses the kind header, and the id from message-id over the SQS message id', async () => {
    const seen: Message[] = [];
    const consumer = createConsumer({ name: 'k', handlers: [on(CancelOrder, (m) => void seen.push(m))] });
    const cancel = CancelOrder.create({ orderId: 'o' }, { headers: { tenant: 't-1' } });
    await consumer.handler(event(recordOf(cancel)));
    expect(seen[0]).toMatchObject({ id: cancel.id, kind: 'command', headers: { tenant: 't-1' } });
  });

  it('handles an empty event', async () => {
    const consumer = createConsumer({ name: 'k', handlers: [on(CancelOrder, () => undefined)] });
    expect(await consumer.handler({ Records: [] })).toEqual({ batchItemFailures: [] });
  });
});

describe('consumer: fallback for foreign messages', () => {
  let logs: ReturnType<typeof captureLogs>;
  beforeEach(() => {
    logs = captureLogs();
  });
  afterEach(() => logs.restore());

  it('gives untyped messages to the fallback (JSON or text), but still fails typed problems', async () => {
    const foreign: Message[] = [];
    const consumer = createConsumer({
      name: 'audit',
      handlers: [on(CancelOrder, () => undefined)],
      fallback: (m) => void foreign.push(m),
    });
    const json = record({ body: '{"legacy":true}', headers: { origin: 'crm' }, sqsMessageId: 'sqs-json' });
    const text = record({ body: 'plain text', sqsMessageId: 'sqs-text' });
    const unhandled = record({ body: '{}', headers: { 'message-type': 'Other' } });
    const typedBadJson = record({ body: 'oops', headers: { 'message-type': 'CancelOrder' } });

    const response = await consumer.handler(event(json, text, unhandled, typedBadJson));

    expect(foreign).toEqual([
      { id: 'sqs-json', type: '', kind: 'document', headers: { origin: 'crm' }, payload: { legacy: true } },
      { id: 'sqs-text', type: '', kind: 'document', headers: {}, payload: 'plain text' },
    ]);
    expect(response.batchItemFailures).toEqual([
      { itemIdentifier: unhandled.messageId },
      { itemIdentifier: typedBadJson.messageId },
    ]);
    expect(logs.lines.map((l) => l.reason)).toEqual(['unhandled-type', 'invalid-json']);
  });

  it('reports a throwing fallback as a handler error', async () => {
    const consumer = createConsumer({
      name: 'audit',
      handlers: [],
      fallback: () => {
        throw new TypeError('cannot store');
      },
    });
    const r = record({ body: '{}' });
    expect(await consumer.handler(event(r))).toEqual({
      batchItemFailures: [{ itemIdentifier: r.messageId }],
    });
    expect(logs.lines).toEqual([
      expect.objectContaining({ reason: 'handler-error', error: 'TypeError: cannot store' }),
    ]);
  });
});

describe('consumer: FIFO message groups', () => {
  let logs: ReturnType<typeof captureLogs>;
  beforeEach(() => {
    logs = captureLogs();
  });
  afterEach(() => logs.restore());

  it('after a failure in group A fails the rest of A only; group B is handled in order', async () => {
    // GIVEN records A1 B1 A2 B2 A3 B3, where A2's handler throws
    const calls: string[] = [];
    const consumer = createConsumer({
      name: 'history',
      handlers: [
        on(OrderPlaced, (m) => {
          calls.push(m.payload.orderId);
          if (m.payload.orderId === 'A2') throw new Error('A2 cannot be stored');
        }),
      ],
    });
    const make = (group: 'A' | 'B', n: number) =>
      recordOf(OrderPlaced.create({ orderId: `${group}${n}`, total: n }, { partitionKey: group }), {
        groupId: group,
      });
    const [a1, b1, a2, b2, a3, b3] = [
      make('A', 1),
      make('B', 1),
      make('A', 2),
      make('B', 2),
      make('A', 3),
      make('B', 3),
    ];

    // WHEN
    const response = await consumer.handler(event(a1!, b1!, a2!, b2!, a3!, b3!));

    // THEN
    expect(response.batchItemFailures).toEqual([
      { itemIdentifier: a2!.messageId },
      { itemIdentifier: a3!.messageId },
    ]);
    expect(calls).toEqual(['A1', 'B1', 'A2', 'B2', 'B3']);
    expect(logs.lines.map((l) => [l.reason, l.sqsMessageId, l.messageGroupId])).toEqual([
      ['handler-error', a2!.messageId, 'A'],
      ['earlier-in-group-failed', a3!.messageId, 'A'],
    ]);
  });

  it('also blocks the group after a parse failure', async () => {
    const calls: string[] = [];
    const consumer = createConsumer({
      name: 'history',
      handlers: [on(OrderPlaced, (m) => void calls.push(m.payload.orderId))],
    });
    const bad = record({ body: '{', headers: { 'message-type': 'OrderPlaced' }, groupId: 'A' });
    const later = recordOf(OrderPlaced.create({ orderId: 'A9', total: 1 }), { groupId: 'A' });
    const other = recordOf(OrderPlaced.create({ orderId: 'B9', total: 1 }), { groupId: 'B' });
    const response = await consumer.handler(event(bad, later, other));
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([bad.messageId, later.messageId]);
    expect(calls).toEqual(['B9']);
  });

  it('does not block later records of a standard queue after a failure', async () => {
    const calls: string[] = [];
    const consumer = createConsumer({
      name: 'history',
      handlers: [
        on(OrderPlaced, (m) => {
          calls.push(m.payload.orderId);
          if (m.payload.orderId === 'x1') throw new Error('no');
        }),
      ],
    });
    const records = ['x1', 'x2'].map((orderId) => recordOf(OrderPlaced.create({ orderId, total: 1 })));
    const response = await consumer.handler(event(...records));
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: records[0]!.messageId }]);
    expect(calls).toEqual(['x1', 'x2']);
  });
});

describe('consumer: configuration', () => {
  it('fails for a type registered twice, naming it', () => {
    expect(() =>
      createConsumer({
        name: 'k',
        handlers: [on(CancelOrder, () => undefined), on(CancelOrder, () => undefined)],
      }),
    ).toThrow(/Consumer k registers two handlers for CancelOrder/);
  });

  it('fails without a name', () => {
    expect(() => createConsumer({ name: '', handlers: [] })).toThrow(ConfigurationError);
  });
});
