/**
 * Claims in S3: PutObject at a key derived from the message id, GetObject with a size and SHA-256
 * check. Throttles and 5xx are retried by the S3 client's own retry strategy; what still fails
 * propagates, so the sender does not send and the consumer fails the record (SQS retries it).
 *
 * This module is the only one that loads @aws-sdk/client-s3; the producer and the consumer import
 * it lazily, the first time a payload needs it, so functions that never meet a large payload do not
 * pay for loading the S3 client at cold start.
 */
import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ClaimMismatchError, ClaimMissingError } from './errors';
import { type ClaimLocation, type ClaimReference, claimKey, sha256Hex } from './reference';

/** Stores and fetches claimed payloads. */
export interface ClaimStore {
  /** Stores `body` as the claim of message `messageId`; idempotent for the same id and body. */
  put(location: ClaimLocation, messageId: string, body: string): Promise<ClaimReference>;
  /** The stored body, checked against the reference's size and SHA-256. */
  get(reference: ClaimReference): Promise<string>;
}

// One client per execution environment, made on first use.
let sharedClient: S3Client | undefined;

/** A claim store over S3. `client` defaults to a module-wide S3Client (endpoint from AWS_ENDPOINT_URL_S3). */
export function s3ClaimStore(client?: S3Client): ClaimStore {
  const s3 = (): S3Client => {
    if (client) return client;
    sharedClient ??= new S3Client({});
    return sharedClient;
  };
  return {
    async put(location, messageId, body) {
      const key = claimKey(location, messageId);
      const sha256 = sha256Hex(body);
      await s3().send(
        new PutObjectCommand({
          Bucket: location.bucket,
          Key: key,
          Body: body,
          ContentType: 'application/json',
          Metadata: { sha256, 'message-id': messageId },
        }),
      );
      return { bucket: location.bucket, key, size: Buffer.byteLength(body, 'utf8'), sha256 };
    },
    async get(reference) {
      let body: string;
      try {
        const out = await s3().send(new GetObjectCommand({ Bucket: reference.bucket, Key: reference.key }));
        body = (await out.Body?.transformToString('utf8')) ?? '';
      } catch (error) {
        if (error instanceof NoSuchKey || (error as Error).name === 'NoSuchKey') {
          throw new ClaimMissingError(
            `Claim s3://${reference.bucket}/${reference.key} does not exist: it expired (the bucket's lifecycle ` +
              'outlived the queue retention it was sized for?) or was deleted. The payload is lost; the message ' +
              'stays in the DLQ for inspection.',
          );
        }
        throw error;
      }
      const size = Buffer.byteLength(body, 'utf8');
      const sha256 = sha256Hex(body);
      if (size !== reference.size || sha256 !== reference.sha256) {
        throw new ClaimMismatchError(
          `Claim s3://${reference.bucket}/${reference.key} is ${size} bytes with SHA-256 ${sha256}; the message ` +
            `references ${reference.size} bytes with SHA-256 ${reference.sha256}. The object was overwritten by ` +
            'something other than the message id it belongs to.',
        );
      }
      return body;
    },
  };
}
