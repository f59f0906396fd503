/**
 * The faults a chaos run injects, by name. The names are the keys of `faults` in bench/chaos.json,
 * so they say what was injected, with the SDK's own exception name where there is one.
 */
export const FaultKinds = {
  SNS_THROTTLED: 'sns.ThrottledException',
  SNS_KMS_THROTTLED: 'sns.KMSThrottlingException',
  SQS_THROTTLED: 'sqs.RequestThrottled',
  SQS_KMS_THROTTLED: 'sqs.KmsThrottled',
  DYNAMODB_THROUGHPUT_EXCEEDED: 'dynamodb.ProvisionedThroughputExceededException',
  DYNAMODB_THROTTLING: 'dynamodb.ThrottlingException',
  INTERNAL_ERROR: 'http500.InternalError',
  SERVICE_UNAVAILABLE: 'http503.ServiceUnavailable',
  RESET_BEFORE_APPLIED: 'connectionReset.beforeApplied',
  RESET_AFTER_APPLIED: 'connectionReset.afterApplied',
  PARTIAL_BATCH_FAILURE: 'partialBatchFailure',
  TRANSACTION_CONFLICT: 'dynamodb.TransactionConflict',
  HANDLER_EXCEPTION: 'handlerException',
  FUNCTION_TIMEOUT: 'functionTimeout',
  WORKER_KILLED: 'workerKilledAfterSideEffects',
  RELAY_KILLED: 'relayKilledBeforeCheckpoint',
  POISON_MESSAGE: 'poisonMessage',
} as const;

export type FaultKind = (typeof FaultKinds)[keyof typeof FaultKinds];

export const ALL_FAULT_KINDS: readonly FaultKind[] = Object.values(FaultKinds);

/** Not faults: the denominators (every SDK request attempt and every invocation the injector saw). */
export const Tallies = {
  SDK_CALLS: 'sdkCalls',
  INVOCATIONS: 'invocations',
} as const;

export type Tally = (typeof Tallies)[keyof typeof Tallies];

export const COUNTER_NAMES: readonly (FaultKind | Tally)[] = [...ALL_FAULT_KINDS, ...Object.values(Tallies)];
