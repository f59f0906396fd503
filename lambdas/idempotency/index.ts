/** Duplicate detection decorators for consumer handlers, keyed by (consumer name, message id). */

export * from './environment';
export * from './errors';
export * from './in-item';
export * from './marker';
export * from './no-op';
export { DEFAULT_TTL_SECONDS, processedKey } from './settings';
export * from './transactional';
