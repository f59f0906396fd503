/**
 * Error responses in each service's own wire shape, so the SDK raises the class AWS would:
 * SQS (JSON, query-compatible code header), SNS (query XML), DynamoDB and DynamoDB Streams
 * (JSON `__type`), SSM (JSON).
 */
import { randomUUID } from 'node:crypto';
import type { Service } from './requests';

export interface WireError {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** One error, named as the service's protocol names it. */
export interface ServiceError {
  /** SQS query-compatible code (`AccessDenied`, `KMS.AccessDeniedException`), SNS code, or JSON type. */
  readonly code: string;
  readonly message: string;
  readonly status?: number;
  /** SQS JSON `__type` when it differs from the code. */
  readonly sqsType?: string;
}

function xmlEscape(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function wireError(service: Service, error: ServiceError): WireError {
  const requestId = randomUUID();
  switch (service) {
    case 'sns':
      return {
        status: error.status ?? 400,
        headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
        body:
          `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type>` +
          `<Code>${xmlEscape(error.code)}</Code><Message>${xmlEscape(error.message)}</Message></Error>` +
          `<RequestId>${requestId}</RequestId></ErrorResponse>`,
      };
    case 'sqs':
      return {
        status: error.status ?? 400,
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amzn-requestid': requestId,
          'x-amzn-query-error': `${error.code};Sender`,
        },
        body: JSON.stringify({
          __type: error.sqsType ?? `com.amazonaws.sqs#${error.code}`,
          message: error.message,
        }),
      };
    case 's3':
      return {
        status: error.status ?? 400,
        headers: { 'content-type': 'application/xml', 'x-amz-request-id': requestId },
        body:
          `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${xmlEscape(error.code)}</Code>` +
          `<Message>${xmlEscape(error.message)}</Message><RequestId>${requestId}</RequestId></Error>`,
      };
    case 'dynamodb':
    case 'streams':
      return {
        status: error.status ?? 400,
        headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': requestId },
        body: JSON.stringify({
          __type: `com.amazonaws.dynamodb.v20120810#${error.code}`,
          message: error.message,
        }),
      };
    case 'scheduler':
      // restJson1: the SDK reads the error type from x-amzn-errortype and the message from the body.
      return {
        status: error.status ?? 400,
        headers: {
          'content-type': 'application/json',
          'x-amzn-requestid': requestId,
          'x-amzn-errortype': error.code,
        },
        body: JSON.stringify({ Message: error.message }),
      };
    default:
      return {
        status: error.status ?? 400,
        headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': requestId },
        body: JSON.stringify({ __type: error.code, message: error.message }),
      };
  }
}

/** The access-denied error of each service for `message` (AWS's "User: ... is not authorized ..." text). */
export function accessDenied(service: Service, message: string, kms: boolean): ServiceError {
  if (kms) {
    // The service that called KMS on the caller's behalf reports KMS's refusal in its own type.
    if (service === 'sns') return { code: 'KMSAccessDenied', message };
    if (service === 'sqs')
      return { code: 'KMS.AccessDeniedException', sqsType: 'com.amazonaws.sqs#KmsAccessDenied', message };
    // S3 answers a refused SSE-KMS data key as a plain 403 AccessDenied naming the KMS action.
    if (service === 's3') return { code: 'AccessDenied', message, status: 403 };
  }
  switch (service) {
    case 'sns':
      return { code: 'AuthorizationError', message, status: 403 };
    case 's3':
      return { code: 'AccessDenied', message, status: 403 };
    case 'sqs':
      return {
        code: 'AccessDenied',
        sqsType: 'com.amazon.coral.service#AccessDeniedException',
        message,
        status: 403,
      };
    case 'scheduler':
      return { code: 'AccessDeniedException', message, status: 403 };
    default:
      return { code: 'AccessDeniedException', message };
  }
}
