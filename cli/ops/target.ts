/**
 * Where an operator command acts: AWS with the default credential chain (and any standard
 * `AWS_ENDPOINT_URL*` variables), an explicit endpoint, or the running `switchyard local --keep`.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { readSession, sessionFile } from '../../local/session';
import { OperationError } from './errors';

export interface TargetOptions {
  /** Use the running `switchyard local --keep` of the app in `appDir`. */
  readonly local?: boolean;
  /** An AWS-compatible endpoint for every service (e.g. LocalStack, or the local cloud's). */
  readonly endpoint?: string;
  readonly region?: string;
  readonly appDir?: string;
}

export interface Target {
  /** Where the command acts, for the summary line. */
  readonly description: string;
  /** SQS message move tasks are served: on AWS and by the local cloud (plain emulators have none). */
  readonly moveTasks: boolean;
  readonly sqs: SQSClient;
  readonly sns: SNSClient;
  readonly dynamodb: DynamoDBClient;
  readonly streams: DynamoDBStreamsClient;
  destroy(): void;
}

/** The emulators accept any credentials; fixed ones keep the SDK from searching for real ones. */
const EMULATOR_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

export function resolveTarget(options: TargetOptions): Target {
  if (options.local && options.endpoint) {
    throw new OperationError('Give either --local or --endpoint, not both.');
  }
  if (options.local) {
    const appDir = options.appDir ?? process.cwd();
    const session = readSession(appDir);
    if (!session) {
      throw new OperationError(
        `No running local cloud for the app in ${appDir} (no live ${sessionFile(appDir)}). ` +
          'Start one with "switchyard local --keep" in another terminal, or pass --endpoint URL.',
      );
    }
    return emulatedTarget(
      { snsSqs: session.endpoints.snsSqs, dynamodb: session.endpoints.dynamodb },
      options.region ?? session.region,
      `the local cloud (pid ${session.pid}, ${session.endpoints.snsSqs})`,
      true,
    );
  }
  if (options.endpoint) {
    if (!/^https?:\/\/[^/]+/.test(options.endpoint)) {
      throw new OperationError(
        `Endpoint "${options.endpoint}" is not a URL; use e.g. http://127.0.0.1:4566.`,
      );
    }
    return emulatedTarget(
      { snsSqs: options.endpoint, dynamodb: options.endpoint },
      options.region ?? 'us-east-1',
      options.endpoint,
      // Unknown endpoint (LocalStack, a bare emulator): receive-send-delete works everywhere.
      false,
    );
  }
  const region = options.region;
  const sqs = new SQSClient({ region });
  const sns = new SNSClient({ region });
  const dynamodb = new DynamoDBClient({ region });
  const streams = new DynamoDBStreamsClient({ region });
  return {
    description: `AWS${region ? ` (${region})` : ''}`,
    moveTasks: true,
    sqs,
    sns,
    dynamodb,
    streams,
    destroy: () => {
      for (const client of [sqs, sns, dynamodb, streams]) client.destroy();
    },
  };
}

function emulatedTarget(
  endpoints: { snsSqs: string; dynamodb: string },
  region: string,
  description: string,
  moveTasks: boolean,
): Target {
  const common = { region, credentials: EMULATOR_CREDENTIALS };
  const sqs = new SQSClient({ ...common, endpoint: endpoints.snsSqs });
  const sns = new SNSClient({ ...common, endpoint: endpoints.snsSqs });
  const dynamodb = new DynamoDBClient({ ...common, endpoint: endpoints.dynamodb });
  const streams = new DynamoDBStreamsClient({ ...common, endpoint: endpoints.dynamodb });
  return {
    description,
    moveTasks,
    sqs,
    sns,
    dynamodb,
    streams,
    destroy: () => {
      for (const client of [sqs, sns, dynamodb, streams]) client.destroy();
    },
  };
}
