/**
 * The claim check on the wire: a payload too large for its channel is stored in S3 and the message
 * body becomes a small envelope naming where it is. Headers stay message attributes, so filter
 * policies, FIFO group ids and deduplication work as for any message.
 */
import { createHash } from 'node:crypto';

/** The one field of a claim envelope body. Namespaced so that no business payload looks like one. */
export const CLAIM_ENVELOPE_FIELD = 'switchyard:claim-check';

/** Where a claimed payload is and what it must be when read back. */
export interface ClaimReference {
  readonly bucket: string;
  readonly key: string;
  /** Bytes of the stored payload (its JSON text, UTF-8). */
  readonly size: number;
  /** Hex SHA-256 of the stored payload: the consumer refuses a claim that does not match. */
  readonly sha256: string;
}

/** The body that travels instead of the payload. */
export interface ClaimEnvelope {
  readonly [CLAIM_ENVELOPE_FIELD]: ClaimReference;
}

/** Where a channel's claims are stored: a bucket and the key prefix of that channel. */
export interface ClaimLocation {
  readonly bucket: string;
  /** Ends in `/` (or is empty). */
  readonly prefix: string;
}

export function claimEnvelope(reference: ClaimReference): ClaimEnvelope {
  return { [CLAIM_ENVELOPE_FIELD]: reference };
}

/**
 * The object key of a message's claim: derived from the message id only, so a retried send (same id)
 * writes the same object again instead of leaving an orphan next to it.
 */
export function claimKey(location: ClaimLocation, messageId: string): string {
  return `${location.prefix}${encodeURIComponent(messageId)}`;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * The reference in `body`, when the body is a claim envelope; undefined for any other body. The
 * check is cheap on ordinary bodies: only a body that starts with the envelope's field is parsed.
 */
export function claimReferenceOf(body: string): ClaimReference | undefined {
  if (!body.startsWith(`{"${CLAIM_ENVELOPE_FIELD}":`)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  const reference = (value as Record<string, unknown>)[CLAIM_ENVELOPE_FIELD] as
    | Record<string, unknown>
    | undefined;
  if (
    Object.keys(value as object).length !== 1 ||
    typeof reference?.bucket !== 'string' ||
    typeof reference.key !== 'string' ||
    typeof reference.size !== 'number' ||
    typeof reference.sha256 !== 'string'
  )
    return undefined;
  return {
    bucket: reference.bucket,
    key: reference.key,
    size: reference.size,
    sha256: reference.sha256,
  };
}
