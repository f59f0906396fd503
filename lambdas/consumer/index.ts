/** Public surface of the consumer side: the handler factory, handler registration and logging. */
export { type Consumer, type ConsumerOptions, createConsumer } from './consumer';
export { type FailureReason, FailureReasons } from './failure';
export { createLogger, type JsonLogger, type LogLevel } from './logger';
export { isFifoRecord, type UnwrappedRecord, unwrapRecord } from './record';
export * from './types';
