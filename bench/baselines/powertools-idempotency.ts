/**
 * The baseline of the idempotency bench: Powertools for AWS Lambda's idempotency utility around an
 * SQS record handler, processed with its batch utility, as the Powertools docs show
 * (`makeIdempotent` + `BatchProcessor` + `processPartialResponse`, DynamoDBPersistenceLayer).
 * Dev-only: Switchyard does not ship it.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

export interface PowertoolsBaselineOptions {
  /** Idempotency table: partition key `id` (string), TTL attribute `expiration`. */
  readonly idempotencyTable: string;
  readonly client: DynamoDBClient;
  /** The business logic, the same as the Switchyard handlers run. */
  readonly recordHandler: (record: SQSRecord) => Promise<void>;
}

/** Builds the Lambda handler the Powertools docs show, keyed on the SQS message id. */
export function powertoolsBatchHandler(
  options: PowertoolsBaselineOptions,
): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  const persistenceStore = new DynamoDBPersistenceLayer({
    tableName: options.idempotencyTable,
    awsSdkV3Client: options.client,
  });
  const config = new IdempotencyConfig({ eventKeyJmesPath: 'messageId' });
  const processor = new BatchProcessor(EventType.SQS);
  const idempotentRecordHandler = makeIdempotent(options.recordHandler, { persistenceStore, config });
  return async (event, context) => {
    config.registerLambdaContext(context);
    return processPartialResponse(event, idempotentRecordHandler, processor, { context });
  };
}
