/**
 * The error codes SNS and SQS put on a failed batch entry (PublishBatch / SendMessageBatch `Failed[].Code`)
 * are wire codes (the `awsQueryError` code of the service model: SNS `Throttled`, SQS
 * `KMS.ThrottlingException`), not the SDK's exception names (`ThrottledException`, `KmsThrottled`).
 * This table maps each wire code the SDK models to the exception it stands for and its HTTP status,
 * so an entry failure is classified exactly like the same error thrown by a single-message call.
 * test/producer-entry-codes.test.ts checks every row against the error shapes of the installed
 * @aws-sdk/client-sns and @aws-sdk/client-sqs, and that no modelled code is missing.
 */

export interface WireErrorShape {
  /** The SDK's exception name for this code. */
  readonly name: string;
  readonly httpStatusCode: number;
}

const shape = (name: string, httpStatusCode: number): WireErrorShape => ({ name, httpStatusCode });

/** SNS (query protocol) wire codes, from the `awsQueryError` traits of @aws-sdk/client-sns. */
const SNS_WIRE_CODES: Readonly<Record<string, WireErrorShape>> = {
  AuthorizationError: shape('AuthorizationErrorException', 403),
  BatchEntryIdsNotDistinct: shape('BatchEntryIdsNotDistinctException', 400),
  BatchRequestTooLong: shape('BatchRequestTooLongException', 400),
  ConcurrentAccess: shape('ConcurrentAccessException', 400),
  EmptyBatchRequest: shape('EmptyBatchRequestException', 400),
  EndpointDisabled: shape('EndpointDisabledException', 400),
  FilterPolicyLimitExceeded: shape('FilterPolicyLimitExceededException', 403),
  InternalError: shape('InternalErrorException', 500),
  InvalidBatchEntryId: shape('InvalidBatchEntryIdException', 400),
  InvalidParameter: shape('InvalidParameterException', 400),
  ParameterValueInvalid: shape('InvalidParameterValueException', 400),
  InvalidSecurity: shape('InvalidSecurityException', 403),
  InvalidState: shape('InvalidStateException', 400),
  KMSAccessDenied: shape('KMSAccessDeniedException', 400),
  KMSDisabled: shape('KMSDisabledException', 400),
  KMSInvalidState: shape('KMSInvalidStateException', 400),
  KMSNotFound: shape('KMSNotFoundException', 400),
  KMSOptInRequired: shape('KMSOptInRequired', 403),
  KMSThrottling: shape('KMSThrottlingException', 400),
  NotFound: shape('NotFoundException', 404),
  OptedOut: shape('OptedOutException', 400),
  PlatformApplicationDisabled: shape('PlatformApplicationDisabledException', 400),
  ReplayLimitExceeded: shape('ReplayLimitExceededException', 403),
  ResourceNotFound: shape('ResourceNotFoundException', 404),
  StaleTag: shape('StaleTagException', 400),
  SubscriptionLimitExceeded: shape('SubscriptionLimitExceededException', 403),
  TagLimitExceeded: shape('TagLimitExceededException', 400),
  TagPolicy: shape('TagPolicyException', 400),
  Throttled: shape('ThrottledException', 429),
  TooManyEntriesInBatchRequest: shape('TooManyEntriesInBatchRequestException', 400),
  TopicLimitExceeded: shape('TopicLimitExceededException', 403),
  UserError: shape('UserErrorException', 400),
  ValidationException: shape('ValidationException', 400),
};

/** SQS wire codes (JSON protocol with query-compatible codes), from @aws-sdk/client-sqs. */
const SQS_WIRE_CODES: Readonly<Record<string, WireErrorShape>> = {
  'AWS.SimpleQueueService.BatchEntryIdsNotDistinct': shape('BatchEntryIdsNotDistinct', 400),
  'AWS.SimpleQueueService.BatchRequestTooLong': shape('BatchRequestTooLong', 400),
  'AWS.SimpleQueueService.EmptyBatchRequest': shape('EmptyBatchRequest', 400),
  InvalidAddress: shape('InvalidAddress', 404),
  'AWS.SimpleQueueService.InvalidBatchEntryId': shape('InvalidBatchEntryId', 400),
  InvalidSecurity: shape('InvalidSecurity', 403),
  'KMS.AccessDeniedException': shape('KmsAccessDenied', 400),
  'KMS.DisabledException': shape('KmsDisabled', 400),
  'KMS.InvalidKeyUsageException': shape('KmsInvalidKeyUsage', 400),
  'KMS.InvalidStateException': shape('KmsInvalidState', 400),
  'KMS.NotFoundException': shape('KmsNotFound', 400),
  'KMS.OptInRequired': shape('KmsOptInRequired', 403),
  'KMS.ThrottlingException': shape('KmsThrottled', 400),
  'AWS.SimpleQueueService.MessageNotInflight': shape('MessageNotInflight', 400),
  OverLimit: shape('OverLimit', 403),
  'AWS.SimpleQueueService.PurgeQueueInProgress': shape('PurgeQueueInProgress', 403),
  'AWS.SimpleQueueService.QueueDeletedRecently': shape('QueueDeletedRecently', 400),
  'AWS.SimpleQueueService.NonExistentQueue': shape('QueueDoesNotExist', 400),
  QueueAlreadyExists: shape('QueueNameExists', 400),
  ReceiptHandleIsInvalid: shape('ReceiptHandleIsInvalid', 404),
  RequestThrottled: shape('RequestThrottled', 403),
  ResourceNotFoundException: shape('ResourceNotFoundException', 404),
  'AWS.SimpleQueueService.TooManyEntriesInBatchRequest': shape('TooManyEntriesInBatchRequest', 400),
  'AWS.SimpleQueueService.UnsupportedOperation': shape('UnsupportedOperation', 400),
};

/**
 * Codes every AWS service may answer that no service model lists (the common errors of the AWS
 * protocols): internal failures and unavailability are server errors, worth a retry.
 */
const COMMON_WIRE_CODES: Readonly<Record<string, WireErrorShape>> = {
  InternalFailure: shape('InternalFailure', 500),
  ServiceUnavailable: shape('ServiceUnavailable', 503),
  ThrottlingException: shape('ThrottlingException', 400),
};

/** Every table above, for the test that checks it against the SDK. */
export const WIRE_ERROR_CODES = {
  sns: SNS_WIRE_CODES,
  sqs: SQS_WIRE_CODES,
  common: COMMON_WIRE_CODES,
} as const;

/**
 * The exception a batch entry's code stands for. A code that already is an exception name (or is
 * unknown) is returned as it is, with no status.
 */
export function wireErrorShape(code: string): { name: string; httpStatusCode?: number } {
  return SNS_WIRE_CODES[code] ?? SQS_WIRE_CODES[code] ?? COMMON_WIRE_CODES[code] ?? { name: code };
}
