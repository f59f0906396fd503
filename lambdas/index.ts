/**
 * Public API of the Switchyard runtime (`switchyard-aws/runtime`): everything Lambda code imports.
 * Message definitions and envelope, producer, consumer, duplicate detection and the transactional
 * outbox. Nothing here imports aws-cdk-lib, so a function bundle stays small.
 */

export * from './claim-check';
export * from './consumer';
export * from './core';
export * from './delayed';
export * from './idempotency';
export * from './outbox';
export * from './producer';
export * from './styles';
