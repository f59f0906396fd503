/**
 * The producer side of the claim check: a message whose encoded size exceeds its channel's limit,
 * on a channel that has a claim location, leaves its payload in S3 and travels as a claim envelope.
 * Messages within the limit, and channels without a claim location, are untouched.
 */
import type { Message } from '../core/message';
import { toWire } from '../core/wire';
import { claimLocationOf } from './location';
import { type ClaimLocation, claimEnvelope, claimKey } from './reference';
import type { ClaimStore } from './s3-claims';

/** Replaces the payload of an oversized message by a claim, or returns the message as it is. */
export type Offloader = (address: string, message: Message, maxBytes: number) => Promise<Message>;

/** Size with attributes, or undefined when the message is unsendable for another reason (reported later). */
function encodedSize(message: Message): number | undefined {
  try {
    return toWire(message, Number.MAX_SAFE_INTEGER).sizeBytes;
  } catch {
    return undefined;
  }
}

/** The lazily loaded default store: @aws-sdk/client-s3 is required only when a payload is offloaded. */
export function lazyClaimStore(given?: ClaimStore): () => Promise<ClaimStore> {
  let loading: Promise<ClaimStore> | undefined;
  return () => {
    if (given) return Promise.resolve(given);
    loading ??= import('./s3-claims').then((module) => module.s3ClaimStore());
    return loading;
  };
}

export function createOffloader(
  store: () => Promise<ClaimStore>,
  env: NodeJS.ProcessEnv = process.env,
): Offloader {
  return async (address, message, maxBytes) => {
    const location = claimLocationOf(address, env);
    if (!location) return message;
    const size = encodedSize(message);
    if (size === undefined || size <= maxBytes) return message;
    const body = JSON.stringify(message.payload ?? null);
    const reference = await (await store()).put(location, message.id, body);
    return { ...message, payload: claimEnvelope(reference) };
  };
}

/**
 * The message as it would travel after offloading, without storing anything: what the unit of work
 * and the outbox relay check before accepting a large message for a claim-check channel. The
 * envelope has the real key and a full-length hash, so its size is exact.
 */
export function asClaimed(message: Message, location: ClaimLocation): Message {
  const body = JSON.stringify(message.payload ?? null);
  return {
    ...message,
    payload: claimEnvelope({
      bucket: location.bucket,
      key: claimKey(location, message.id),
      size: Buffer.byteLength(body, 'utf8'),
      sha256: '0'.repeat(64),
    }),
  };
}
