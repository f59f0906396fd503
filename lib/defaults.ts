/**
 * Secure defaults for every resource Switchyard creates, in one place. Constructs merge
 * defaults -> user props -> what the construct requires, in that order.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { SwitchyardConfigurationError } from './validation';

/** How many receives before a message moves to the DLQ. */
export const DEFAULT_MAX_RECEIVE_COUNT = 5;
/** DLQs keep messages for the SQS maximum, so there is time to inspect and redrive them. */
export const DEAD_LETTER_RETENTION = Duration.days(14);
/** Lambda needs 6x the function timeout as queue visibility timeout to retry safely (AWS guidance). */
export const VISIBILITY_TIMEOUT_FACTOR = 6;
export const DEFAULT_FUNCTION_TIMEOUT = Duration.seconds(30);
export const DEFAULT_MEMORY_SIZE = 512;
export const DEFAULT_LOG_RETENTION = logs.RetentionDays.ONE_MONTH;
/** The Lambda runtime Switchyard targets and tests against. */
export const DEFAULT_RUNTIME = lambda.Runtime.NODEJS_22_X;
export const DEFAULT_ARCHITECTURE = lambda.Architecture.ARM_64;
/** SQS allows at most 10 messages per batch from a FIFO queue, and from a standard one without a batching window. */
export const MAX_BATCH_SIZE_WITHOUT_WINDOW = 10;
export const DEFAULT_BATCH_SIZE = 10;
/** Lambda function timeout ceiling. */
export const MAX_FUNCTION_TIMEOUT = Duration.seconds(900);
/** SQS event source maximum concurrency range. */
export const MIN_MAX_CONCURRENCY = 2;
export const MAX_MAX_CONCURRENCY = 1000;

/**
 * Context key that sets the removal policy of every KMS key and log group Switchyard creates, e.g.
 * `cdk deploy -c switchyard:removalPolicy=destroy` for a dev stage. Props given on a construct win.
 */
export const REMOVAL_POLICY_CONTEXT = 'switchyard:removalPolicy';

const REMOVAL_POLICIES: Record<string, RemovalPolicy> = {
  retain: RemovalPolicy.RETAIN,
  destroy: RemovalPolicy.DESTROY,
};

/**
 * The removal policy of a key or log group: the one given, else the `switchyard:removalPolicy`
 * context, else RETAIN (keys guard data that outlives the stack; logs are evidence).
 */
export function removalPolicyOf(scope: Construct, given?: RemovalPolicy): RemovalPolicy {
  if (given !== undefined) return given;
  const fromContext: unknown = scope.node.tryGetContext(REMOVAL_POLICY_CONTEXT);
  if (fromContext === undefined) return RemovalPolicy.RETAIN;
  const policy = REMOVAL_POLICIES[String(fromContext).toLowerCase()];
  if (!policy) {
    throw new SwitchyardConfigurationError(
      `${scope.node.path}: context ${REMOVAL_POLICY_CONTEXT} is "${String(fromContext)}"; use "retain" (the default) or "destroy" (a dev stage).`,
      [`${REMOVAL_POLICY_CONTEXT} invalid`],
    );
  }
  return policy;
}

/** Encryption of a queue: SQS-managed SSE unless a customer key is given. */
export function queueEncryption(key?: kms.IKey): Pick<sqs.QueueProps, 'encryption' | 'encryptionMasterKey'> {
  return key
    ? { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: key }
    : { encryption: sqs.QueueEncryption.SQS_MANAGED };
}

export interface DeadLetterQueueOptions {
  readonly fifo: boolean;
  readonly encryptionKey?: kms.IKey;
}

/** Secure props of a dead-letter queue: encrypted, TLS only, 14 days retention. */
export function deadLetterQueueProps(options: DeadLetterQueueOptions): sqs.QueueProps {
  return {
    ...queueEncryption(options.encryptionKey),
    enforceSSL: true,
    retentionPeriod: DEAD_LETTER_RETENTION,
    fifo: options.fifo ? true : undefined,
  };
}

/** Secure props of a working queue; the caller adds its DLQ, FIFO settings and timeouts. */
export function queueProps(options: { encryptionKey?: kms.IKey }): sqs.QueueProps {
  return { ...queueEncryption(options.encryptionKey), enforceSSL: true };
}

/**
 * The customer-managed key of a topic. SNS cannot use SQS-managed SSE, so each topic gets its own
 * key with rotation on. SNS itself must be able to use the key to deliver to subscribed queues.
 */
export function createTopicKey(
  scope: Construct,
  id: string,
  description: string,
  removalPolicy?: RemovalPolicy,
): kms.Key {
  const key = new kms.Key(scope, id, {
    description,
    enableKeyRotation: true,
    removalPolicy: removalPolicyOf(scope, removalPolicy),
    // A destroyed key still waits out its deletion window; the shortest keeps dev stages tidy.
    pendingWindow:
      removalPolicyOf(scope, removalPolicy) === RemovalPolicy.DESTROY ? Duration.days(7) : undefined,
  });
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowSnsToUseTheKeyForDelivery',
      principals: [new iam.ServicePrincipal('sns.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceAccount': key.stack.account } },
    }),
  );
  return key;
}

/** Secure props of a topic: SSE with the given key, TLS-only publishing. */
export function topicProps(key: kms.IKey): Pick<sns.TopicProps, 'masterKey' | 'enforceSSL'> {
  return { masterKey: key, enforceSSL: true };
}
