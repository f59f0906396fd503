/**
 * The pending-request store of request / asynchronous response clients: one item per request,
 * keyed by correlation id, expired by TTL a day after its deadline.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { PENDING_REQUESTS_TABLE_VARIABLE } from '../lambdas/styles/pending-requests';

export interface PendingRequestsTableProps {
  /** @default RemovalPolicy.DESTROY - the records are transient */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * @example
 * const pending = new PendingRequestsTable(this, 'PendingRequests');
 * pending.bind(orderApi.function);      // requester: registers and waits
 * pending.bind(replyRouter.handler);    // reply channel consumer: delivers replies
 */
export class PendingRequestsTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: PendingRequestsTableProps = {}) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Resource', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      timeToLiveAttribute: 'expiresAt',
      removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
    });
  }

  /** Sets `SWITCHYARD_PENDING_REQUESTS_TABLE` and grants GetItem, PutItem, UpdateItem (and the other read/write actions). */
  bind(fn: lambda.Function): iam.Grant {
    fn.addEnvironment(PENDING_REQUESTS_TABLE_VARIABLE, this.table.tableName);
    return this.table.grantReadWriteData(fn);
  }
}
