/**
 * The wire-code table of lambdas/core/wire-error-codes.ts, checked against the error shapes of the
 * installed SDK clients: every error SNS and SQS model with a query-protocol code is in the table,
 * under its exception name and HTTP status, and a batch entry failing with that code is classified
 * exactly like the SDK's exception for it (review finding: entry codes are wire codes).
 */
import * as sns from '@aws-sdk/client-sns';
import * as sqs from '@aws-sdk/client-sqs';
import { isRetryableEntryCode, isRetryableError } from '../lambdas/core/error-classification';
import { WIRE_ERROR_CODES } from '../lambdas/core/wire-error-codes';

interface ModelledError {
  readonly wireCode: string;
  readonly name: string;
  readonly httpStatusCode: number;
  readonly create: () => unknown;
}

/** Reads the SDK's error schemas (`XxxException$` exports: [-3, namespace, name, traits, ...]). */
function modelledErrors(client: Record<string, unknown>): ModelledError[] {
  const out: ModelledError[] = [];
  for (const [exportName, schema] of Object.entries(client)) {
    if (!exportName.endsWith('$') || !Array.isArray(schema) || schema[0] !== -3) continue;
    const traits = schema[3] as { awsQueryError?: [string, number] };
    if (!traits.awsQueryError) continue;
    const className = exportName.slice(0, -1);
    const ErrorClass = client[className] as new (o: object) => Error;
    const [wireCode, httpStatusCode] = traits.awsQueryError;
    out.push({
      wireCode,
      name: new ErrorClass({ $metadata: {}, message: '' }).name,
      httpStatusCode,
      create: () => new ErrorClass({ $metadata: { httpStatusCode }, message: 'from the service' }),
    });
  }
  return out;
}

describe.each([
  ['SNS', sns as unknown as Record<string, unknown>, WIRE_ERROR_CODES.sns],
  ['SQS', sqs as unknown as Record<string, unknown>, WIRE_ERROR_CODES.sqs],
])('%s batch entry wire codes', (_service, client, table) => {
  const errors = modelledErrors(client);

  it('the SDK models some errors with wire codes (the schema layout was understood)', () => {
    expect(errors.length).toBeGreaterThan(20);
  });

  it('the table has every modelled wire code, with the exception name and status of its shape', () => {
    const expected = Object.fromEntries(
      errors.map((e) => [e.wireCode, { name: e.name, httpStatusCode: e.httpStatusCode }]),
    );
    expect(table).toEqual(expected);
  });

  it('an entry failing with a wire code is classified like the exception the SDK throws for it', () => {
    for (const e of errors) {
      expect({ code: e.wireCode, retryable: isRetryableEntryCode(e.wireCode, true) }).toEqual({
        code: e.wireCode,
        retryable: isRetryableError(e.create()),
      });
    }
  });
});

describe('throttles, KMS throttles and internal errors on a batch entry', () => {
  it.each(['Throttled', 'KMSThrottling', 'InternalError', 'RequestThrottled', 'KMS.ThrottlingException'])(
    '%s with SenderFault is retryable',
    (code) => {
      expect(isRetryableEntryCode(code, true)).toBe(true);
    },
  );

  it.each([
    'InvalidParameter',
    'KMSNotFound',
    'AWS.SimpleQueueService.NonExistentQueue',
    'KMS.AccessDeniedException',
  ])('%s with SenderFault is permanent', (code) => {
    expect(isRetryableEntryCode(code, true)).toBe(false);
  });
});
