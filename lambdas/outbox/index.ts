/** Public surface of the transactional outbox runtime. */
export * from './errors';
export { FailureParking, type FailureParkingOptions, type ParkedRecord } from './failures';
export {
  deserializeEntry,
  type KeyAttributes,
  keyAttributesFromEnvironment,
  OutboxAttributes,
  type OutboxEntry,
  OutboxEnvironment,
  type OutboxMode,
  POLLING_INDEX_NAME,
  type RelayKind,
  serializeEntry,
} from './layout';
export { createPollingPublisher, type PollingPublisherOptions, type PollOutcome } from './poller';
export { consoleLogger, createStreamRelay, type RelayOutcome, type StreamRelayOptions } from './relay';
export {
  isServiceRecord,
  type ParsedStreamRecord,
  parseStreamRecord,
  RELAY_FILTER_PATTERN,
  unmarshallImage,
} from './stream';
export {
  type AggregateChange,
  type CommitResult,
  createUnitOfWork,
  expectedVersionOf,
  UnitOfWork,
  type UnitOfWorkOptions,
} from './unit-of-work';
