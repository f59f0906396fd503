/**
 * Public API of the Switchyard runtime (`switchyard-aws/runtime`): everything Lambda code imports.
 * Message definitions and envelope, producer, consumer, duplicate detection and the transactional
 * outbox. Nothing here imports aws-cdk-lib, so a function bundle stays small.
 */

/**
 * The zod the message definitions are written with: importing it from here guarantees the schemas
 * and the runtime share one copy (zod's types differ between major versions).
 */
export { z } from 'zod';
export * from './claim-check';
export * from './consumer';
export * from './core';
export * from './delayed';
export * from './idempotency';
export * from './outbox';
export * from './producer';
export * from './styles';
