/** Public surface of the Switchyard CDK constructs. */
export * from './alarms';
export * from './backbone-monitoring';
export * from './channel';
export * from './defaults';
export * from './delayed-delivery';
export * from './http-command-endpoint';
export * from './message-consumer';
export * from './nag';
export * from './pending-requests-table';
export * from './point-to-point-channel';
export * from './processed-messages-table';
export * from './publish-subscribe-channel';
export * from './reply-gatherer';
export * from './service-function';
export * from './topology';
export * from './transactional-outbox';
export * from './validation';
