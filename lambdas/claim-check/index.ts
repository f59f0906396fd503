/** Public surface of the claim check: large payloads in S3, a reference on the channel. */
export * from './errors';
export * from './location';
export * from './reference';
export type { ClaimStore } from './s3-claims';
