/**
 * The envelope headers as a zod schema, so documentation (AsyncAPI message headers) is generated
 * from code rather than written by hand.
 */
import { z } from 'zod';
import { Headers, type MessageKind } from '../../lambdas/core/headers';

/** Headers of a message of `type` and `kind`, as they travel in SNS/SQS message attributes. */
export function headerSchema(type: string, kind: MessageKind, withReplyTo: boolean) {
  const optional = z.string().min(1).optional();
  return z.object({
    [Headers.ID]: z.string().min(1).describe('Unique message id (UUIDv7 unless the producer set one)'),
    [Headers.TYPE]: z.literal(type),
    [Headers.KIND]: z.literal(kind),
    [Headers.CORRELATION_ID]: z
      .string()
      .min(1)
      .describe('Request id for replies; carried on from the causing message otherwise'),
    [Headers.CAUSATION_ID]: optional.describe('Id of the message this one is a consequence of'),
    ...(withReplyTo
      ? { [Headers.REPLY_TO]: z.string().min(1).describe('Queue URL the receiver sends its reply to') }
      : {}),
    [Headers.PARTITION_KEY]: optional.describe('Ordering key: the MessageGroupId on FIFO channels'),
    [Headers.TIMESTAMP]: z.iso.datetime(),
    [Headers.SOURCE]: z.string().min(1).describe('The producing function or service'),
  });
}
