/** What every resource creator gets, and what it returns. */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { AssemblyStack } from '../types';

export interface DeployClients {
  readonly sqs: SQSClient;
  readonly sns: SNSClient;
  readonly dynamodb: DynamoDBClient;
  /** Creates AWS::S3::Bucket resources (claim-check stores). */
  readonly s3?: S3Client;
}

/** A created (or described) resource: what `Ref` and `Fn::GetAtt` on it return. */
export interface DeployedResource {
  readonly logicalId: string;
  readonly type: string;
  readonly physicalName: string;
  readonly ref: unknown;
  readonly attributes: Readonly<Record<string, unknown>>;
}

export interface QueueInfo {
  readonly logicalId: string;
  readonly name: string;
  readonly url: string;
  readonly arn: string;
  /** Dead-letter queue ARN from the redrive policy. */
  readonly deadLetterTargetArn?: string;
  readonly maxReceiveCount?: number;
  /** The queue's VisibilityTimeout (SQS default 30), for the mapping's deploy-time check. */
  readonly visibilityTimeoutSeconds?: number;
}

export interface TopicInfo {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
}

export interface SubscriptionInfo {
  readonly logicalId: string;
  readonly arn: string;
  readonly topicArn: string;
  readonly protocol: string;
  readonly endpoint: string;
  readonly deadLetterTargetArn?: string;
  /** Subscription attributes as created (raw delivery, filter policy, redrive policy). */
  readonly attributes?: Readonly<Record<string, string>>;
}

export interface TableInfo {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  readonly streamArn?: string;
}

/** Registry of what is deployed so far, across stacks (for ARN -> URL look-ups). */
export interface Inventory {
  readonly queues: QueueInfo[];
  readonly topics: TopicInfo[];
  readonly subscriptions: SubscriptionInfo[];
  readonly tables: TableInfo[];
}

export interface ResourceContext {
  readonly stack: AssemblyStack;
  readonly logicalId: string;
  readonly type: string;
  readonly region: string;
  readonly accountId: string;
  readonly clients: DeployClients;
  readonly inventory: Inventory;
  /** Construct path from the resource's `aws:cdk:path` metadata, if any. */
  readonly constructPath?: string;
  /** A behaviour the local cloud does not emulate. */
  warn(message: string): void;
  /** A property ignored on purpose (`Type.Property`) because it does not change behaviour locally. */
  note(message: string): void;
}

/**
 * Reports properties outside `handled` and `ignored`: ignored ones are noted, the rest are
 * warnings because they may change behaviour.
 */
export function checkProperties(
  ctx: ResourceContext,
  props: Record<string, unknown>,
  handled: readonly string[],
  ignored: readonly string[] = [],
): void {
  for (const key of Object.keys(props)) {
    if (handled.includes(key)) continue;
    if (ignored.includes(key)) ctx.note(`${ctx.type}.${key}`);
    else
      ctx.warn(
        `${ctx.logicalId} (${ctx.type}) property ${key} is not emulated; local behaviour may differ from AWS.`,
      );
  }
}

export function asString(value: unknown, what: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new Error(`${what} must be a string, got ${JSON.stringify(value)}.`);
}

/** CloudFormation lets JSON-valued attributes be objects; the APIs want strings. */
export function jsonString(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function bool(value: unknown): boolean {
  return value === true || value === 'true';
}
