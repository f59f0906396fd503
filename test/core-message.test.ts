import { z } from 'zod';
import {
  buildMessage,
  ConfigurationError,
  defineCommand,
  defineEvent,
  defineReply,
  Headers,
  MessageLimitError,
  MessageValidationError,
  newMessageId,
  replyTo,
  timestampOfMessageId,
  toWire,
} from '../lambdas/core';
import { payloadJsonSchema } from '../lib/topology/payload-json-schema';

const OrderCreated = defineEvent({
  type: 'OrderCreated',
  description: 'An order was placed.',
  schema: z.object({ orderId: z.string(), total: z.number().nonnegative() }),
  partitionKey: (p) => p.orderId,
});

describe('message ids', () => {
  it('are UUIDv7, unique and sort in creation order', () => {
    const ids = Array.from({ length: 5000 }, () => newMessageId());
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    expect(ids[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('carry their creation time', () => {
    const before = Date.now();
    const at = timestampOfMessageId(newMessageId())!;
    expect(at).toBeGreaterThanOrEqual(before);
    expect(at).toBeLessThanOrEqual(Date.now() + 1);
    expect(timestampOfMessageId('not-a-uuid')).toBeUndefined();
  });
});

describe('typed definitions', () => {
  it('build a message with the standard headers', () => {
    // WHEN
    const message = OrderCreated.create({ orderId: 'o-1', total: 12 }, { source: 'orders' });
    // THEN
    expect(message).toMatchObject({
      type: 'OrderCreated',
      kind: 'event',
      payload: { orderId: 'o-1', total: 12 },
    });
    expect(message.headers).toMatchObject({
      [Headers.ID]: message.id,
      [Headers.TYPE]: 'OrderCreated',
      [Headers.KIND]: 'event',
      [Headers.CORRELATION_ID]: message.id,
      [Headers.PARTITION_KEY]: 'o-1',
      [Headers.SOURCE]: 'orders',
    });
    expect(Date.parse(message.headers[Headers.TIMESTAMP]!)).not.toBeNaN();
  });

  it('fails on a payload that breaks the schema, naming the type and field', () => {
    expect(() => OrderCreated.create({ orderId: 'o-1', total: -1 })).toThrow(MessageValidationError);
    expect(() => OrderCreated.parse({ orderId: 5 })).toThrow(/OrderCreated.*orderId/);
  });

  it('carries correlation and causation from the message that caused it', () => {
    const cause = OrderCreated.create({ orderId: 'o-1', total: 1 }, { correlationId: 'corr-9' });
    const next = OrderCreated.create({ orderId: 'o-1', total: 1 }, { causedBy: cause });
    expect(next.headers[Headers.CORRELATION_ID]).toBe('corr-9');
    expect(next.headers[Headers.CAUSATION_ID]).toBe(cause.id);
  });

  it('builds replies correlated with the request id', () => {
    const CreateTicket = defineCommand({ type: 'CreateTicket', schema: z.object({ orderId: z.string() }) });
    const TicketCreated = defineReply({ type: 'TicketCreated', schema: z.object({ ticketId: z.string() }) });
    const command = CreateTicket.create(
      { orderId: 'o-1' },
      { replyTo: 'https://sqs/replies', partitionKey: 'o-1' },
    );
    const reply = replyTo(command, TicketCreated, { ticketId: 't-1' });
    expect(command.headers[Headers.REPLY_TO]).toBe('https://sqs/replies');
    expect(reply.kind).toBe('reply');
    expect(reply.headers[Headers.CORRELATION_ID]).toBe(command.id);
    expect(reply.headers[Headers.CAUSATION_ID]).toBe(command.id);
    expect(reply.headers[Headers.PARTITION_KEY]).toBe('o-1');
  });

  it('yields a JSON Schema of the payload (on the CLI side)', () => {
    expect(payloadJsonSchema(OrderCreated)).toMatchObject({
      type: 'object',
      properties: { orderId: { type: 'string' }, total: { type: 'number', minimum: 0 } },
      required: ['orderId', 'total'],
    });
  });

  it('fails on an empty type or an unknown kind', () => {
    expect(() => buildMessage('', 'event', {})).toThrow(ConfigurationError);
    expect(() => buildMessage('X', 'rumour' as never, {})).toThrow(/kind "rumour"/);
  });
});

describe('wire format', () => {
  it('puts the payload in the body and headers in String attributes', () => {
    const message = OrderCreated.create({ orderId: 'o-1', total: 3 });
    const wire = toWire(message);
    expect(JSON.parse(wire.body)).toEqual({ orderId: 'o-1', total: 3 });
    expect(wire.attributes[Headers.TYPE]).toEqual({ DataType: 'String', StringValue: 'OrderCreated' });
    expect(Object.keys(wire.attributes).length).toBeLessThanOrEqual(10);
  });

  it('fails at send time on a message over 256 KiB, naming type and size', () => {
    const Big = defineEvent({ type: 'BigDocument', schema: z.object({ text: z.string() }) });
    const message = Big.create({ text: 'x'.repeat(262_144) });
    expect(() => toWire(message)).toThrow(MessageLimitError);
    expect(() => toWire(message)).toThrow(/BigDocument .* is 26\d{4} bytes/);
  });

  it('counts attributes in the size limit', () => {
    const Doc = defineEvent({ type: 'Doc', schema: z.string() });
    const nearLimit = Doc.create('y'.repeat(262_144 - 2 - 50));
    expect(() => toWire(nearLimit)).toThrow(/256 KiB/);
  });

  it('fails on more than 10 headers', () => {
    const message = OrderCreated.create(
      { orderId: 'o-1', total: 1 },
      { replyTo: 'q', causationId: 'c', headers: { tenant: 't', region: 'r' } },
    );
    expect(() => toWire(message)).toThrow(/11 headers.*at most 10/);
  });

  it('fails on a header name SNS/SQS reject', () => {
    const message = OrderCreated.create({ orderId: 'o-1', total: 1 }, { headers: { 'AWS.trace': 'x' } });
    expect(() => toWire(message)).toThrow(/not a valid SNS\/SQS attribute name/);
  });
});
