/**
 * Message definitions take any Standard Schema v1 validator: zod 4 classic, zod/mini and valibot
 * validate and type payloads alike, and the CLI side derives JSON Schema from each that can give one.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import * as v from 'valibot';
import { z } from 'zod';
import * as zm from 'zod/mini';
import { defineEvent, type MessageDefinition, MessageValidationError, type PayloadOf } from '../lambdas/core';
import { stringFieldsSchema } from '../lambdas/core/string-fields-schema';
import { PayloadSchemaNotConvertibleError, payloadJsonSchema } from '../lib/topology/payload-json-schema';

const definitions = {
  'zod classic': defineEvent({
    type: 'OrderPlaced',
    schema: z.object({ orderId: z.string(), total: z.number() }),
    partitionKey: (order) => order.orderId,
  }),
  'zod/mini': defineEvent({
    type: 'OrderPlaced',
    schema: zm.object({ orderId: zm.string(), total: zm.number() }),
    partitionKey: (order) => order.orderId,
  }),
  valibot: defineEvent({
    type: 'OrderPlaced',
    schema: v.object({ orderId: v.string(), total: v.number() }),
    partitionKey: (order) => order.orderId,
  }),
};

// Compile-time: each validator's payload type is inferred, not `unknown`.
type Order = { orderId: string; total: number };
const inferred: [Order, Order, Order] = [
  {} as PayloadOf<(typeof definitions)['zod classic']>,
  {} as PayloadOf<(typeof definitions)['zod/mini']>,
  {} as PayloadOf<(typeof definitions)['valibot']>,
];

describe.each(Object.entries(definitions))('a definition with %s', (_name, definition) => {
  test('creates a message from a valid payload, with its partition key', () => {
    const message = definition.create({ orderId: 'o-1', total: 12.5 });
    expect(message.payload).toEqual({ orderId: 'o-1', total: 12.5 });
    expect(message.headers['partition-key']).toBe('o-1');
    expect(inferred).toHaveLength(3);
  });

  test('refuses a bad payload, naming the type and the field', () => {
    expect(() => definition.parse({ orderId: 'o-1', total: 'twelve' })).toThrow(MessageValidationError);
    expect(() => definition.parse({ orderId: 'o-1', total: 'twelve' })).toThrow(
      /Payload of OrderPlaced does not match its schema: total: .+Fix the producer or the definition of OrderPlaced/,
    );
  });
});

test('an asynchronous validator is refused with what to do about it', () => {
  const asyncSchema: StandardSchemaV1<unknown, { id: string }> = {
    '~standard': {
      version: 1,
      vendor: 'test',
      validate: async (value) => ({ value: value as { id: string } }),
    },
  };
  const Checked = defineEvent({ type: 'Checked', schema: asyncSchema });
  expect(() => Checked.create({ id: 'x' })).toThrow(
    /validates asynchronously.*move the async check into the handler/,
  );
});

describe('JSON Schema for AsyncAPI, derived on the CLI side', () => {
  const expected = {
    type: 'object',
    properties: { orderId: { type: 'string' }, total: { type: 'number' } },
    required: ['orderId', 'total'],
  };

  test('zod classic converts itself (Standard JSON Schema), draft-07', () => {
    expect(payloadJsonSchema(definitions['zod classic'])).toMatchObject({
      $schema: 'http://json-schema.org/draft-07/schema#',
      ...expected,
    });
  });

  test("zod/mini, which leaves its converter out, is converted by zod's core", () => {
    expect(payloadJsonSchema(definitions['zod/mini'])).toMatchObject({
      $schema: 'http://json-schema.org/draft-07/schema#',
      ...expected,
    });
  });

  test("the runtime's hand-written schema converts itself and validates", () => {
    const Deadline = defineEvent({ type: 'Deadline', schema: stringFieldsSchema('requestId', 'gatherer') });
    expect(payloadJsonSchema(Deadline)).toEqual({
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      properties: { requestId: { type: 'string', minLength: 1 }, gatherer: { type: 'string', minLength: 1 } },
      required: ['requestId', 'gatherer'],
      additionalProperties: false,
    });
    expect(Deadline.parse({ requestId: 'r', gatherer: 'g' })).toEqual({ requestId: 'r', gatherer: 'g' });
    expect(() => Deadline.parse({ requestId: '', gatherer: 'g', extra: 1 })).toThrow(
      /requestId: expected a non-empty string; extra: unknown property/,
    );
  });

  test('a validator without a converter is refused with the type and the fix', () => {
    expect(() => payloadJsonSchema(definitions.valibot as MessageDefinition)).toThrow(
      PayloadSchemaNotConvertibleError,
    );
    expect(() => payloadJsonSchema(definitions.valibot as MessageDefinition)).toThrow(
      /schema of OrderPlaced \(validator "valibot"\) cannot produce JSON Schema.*toStandardJsonSchema/,
    );
  });
});
