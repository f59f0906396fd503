/** Public surface of the producer side: the port, the SNS/SQS adapter and channel lookup. */
export { assertAllSent } from './batch';
export { MAX_BATCH_BYTES, MAX_BATCH_ENTRIES } from './chunk';
export { channelFromEnvironment } from './environment';
export { MissingPartitionKeyError } from './errors';
export * from './port';
export { createProducer, type ProducerOptions } from './sns-sqs-producer';
