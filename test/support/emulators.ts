/** Helpers for tests that talk to the emulators started in global-setup. */
import { randomBytes } from 'node:crypto';

export function snsSqsEndpoint(): string {
  const endpoint = process.env.SWITCHYARD_TEST_SNS_SQS;
  if (!endpoint) throw new Error('SNS/SQS emulator not started: run tests through jest (global-setup).');
  return endpoint;
}

export function dynamodbEndpoint(): string {
  const endpoint = process.env.SWITCHYARD_TEST_DYNAMODB;
  if (!endpoint) throw new Error('DynamoDB Local not started: run tests through jest (global-setup).');
  return endpoint;
}

/** A resource name unique to this test run, e.g. `orders-3f9a1c`. Suffix `.fifo` is kept last. */
export function uniqueName(base: string, fifo = false): string {
  const name = `${base}-${randomBytes(4).toString('hex')}`;
  return fifo ? `${name}.fifo` : name;
}
