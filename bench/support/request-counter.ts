/**
 * Counts the HTTP requests an AWS SDK v3 client sends. The middleware sits in the finalizeRequest
 * step below the SDK's retry middleware, so every attempt counts, retries included.
 */

import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';

/** Clients the benchmarks count requests of. */
export type CountableClient = SNSClient | SQSClient | DynamoDBClient;

export interface RequestCounter {
  /** Requests sent since creation or the last reset. */
  readonly count: number;
  reset(): void;
}

/**
 * Adds a counting middleware to each client; they share one counter.
 *
 * @example
 * const counter = countRequests(sns, sqs);
 * await producer.publishBatch(topicArn, messages);
 * console.log(counter.count);
 */
export function countRequests(...clients: readonly CountableClient[]): RequestCounter {
  let count = 0;
  for (const client of clients) {
    // The stacks differ only in their input/output type parameters, which counting ignores.
    (client.middlewareStack as SQSClient['middlewareStack']).add(
      (next) => async (args) => {
        count++;
        return next(args);
      },
      { step: 'finalizeRequest', name: 'switchyardBenchRequestCounter' },
    );
  }
  return {
    get count() {
      return count;
    },
    reset() {
      count = 0;
    },
  };
}
