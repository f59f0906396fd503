/**
 * TransactionalOutbox: the table the unit of work writes (or an existing one), the relay that
 * publishes what was committed (a log-tailing Lambda on the table's stream, or a scheduled polling
 * publisher), its failure queue, and the grants to write the outbox and publish to its channels.
 */

import { Annotations, Duration, type RemovalPolicy, Stack, Tags, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  OutboxAttributes,
  OutboxEnvironment,
  type OutboxMode,
  POLLING_INDEX_NAME,
  type RelayKind,
} from '../lambdas/outbox/layout';
import { RELAY_FILTER_PATTERN } from '../lambdas/outbox/stream';
import { channelEnvironmentVariable } from '../lambdas/producer/port';
import {
  type AlarmThresholds,
  anyAboveZeroAlarm,
  errorAlarm,
  eventSourceMappingMetric,
  type IAlarmSource,
  lagAlarm,
  OUTBOX_TABLE_DIMENSION,
  OUTBOX_UNPUBLISHED_AGE_METRIC,
  resolveThresholds,
  SWITCHYARD_METRIC_NAMESPACE,
} from './alarms';
import { channelEnvironment, type IChannel } from './channel';
import {
  DEFAULT_ARCHITECTURE,
  DEFAULT_LOG_RETENTION,
  DEFAULT_MEMORY_SIZE,
  DEFAULT_RUNTIME,
  deadLetterQueueProps,
  removalPolicyOf,
} from './defaults';
import { productFunctionEntry } from './product-function-entry';
import { Problems } from './validation';

/** A channel given as a bare topic or queue (for channels not made with Switchyard's constructs). */
export interface OutboxChannel {
  /** Logical name: producers stage messages for it by this name (`SWITCHYARD_CHANNEL_<NAME>`). */
  readonly name: string;
  /** @default - none; give exactly one of topic and queue */
  readonly topic?: sns.ITopic;
  /** @default - none; give exactly one of topic and queue */
  readonly queue?: sqs.IQueue;
}

export interface TransactionalOutboxProps {
  /**
   * An existing table to use. Log-tailing needs its stream (NEW_AND_OLD_IMAGES for in-item,
   * NEW_IMAGE or NEW_AND_OLD_IMAGES for outbox items); polling needs the sparse index
   * (`TransactionalOutbox.addPollingIndex(table)`).
   * @default - a new table: pk/sk strings, on-demand, PITR, stream NEW_AND_OLD_IMAGES, TTL on expiresAt
   */
  readonly table?: dynamodb.ITable;
  /**
   * Stream view type of an imported `table` (for tables made in this app it is read from the table).
   * @default - read from the table
   */
  readonly tableStreamViewType?: dynamodb.StreamViewType;
  /** @default 'log-tailing' */
  readonly relay?: RelayKind;
  /** @default 'outbox-items' */
  readonly mode?: OutboxMode;
  /** Channels the outbox routes to (more with `routeTo`). @default - none */
  readonly channels?: readonly (IChannel | OutboxChannel)[];
  /** @default 'pk' */
  readonly partitionKeyName?: string;
  /** @default 'sk' */
  readonly sortKeyName?: string;
  /** Log-tailing: retries of a failing batch by the event source mapping. @default 10 */
  readonly retryAttempts?: number;
  /** Log-tailing: records older than this go to the failure queue unprocessed. @default Duration.days(1) */
  readonly maxRecordAge?: Duration;
  /** Log-tailing: stream records per invocation. @default 100 */
  readonly batchSize?: number;
  /** Log-tailing: how long to gather records before invoking. @default - none */
  readonly maxBatchingWindow?: Duration;
  /** Failed invocations of one record, for a permanent reason, before the relay parks it in the failure queue. @default 3 */
  readonly maxAttempts?: number;
  /** Polling: how often the poller runs. @default Duration.minutes(1) */
  readonly pollingInterval?: Duration;
  /** Polling: partitions of the sparse index writers spread over. @default 4 */
  readonly pollingBuckets?: number;
  /**
   * Removal policy of the relay's log group.
   * @default - the `switchyard:removalPolicy` context, else RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

const DEFAULT_RETRY_ATTEMPTS = 10;
/** Tag (and value) that marks an outbox failure queue for the operator commands. */
export const FAILURE_QUEUE_ROLE_TAG = 'switchyard:role';
export const FAILURE_QUEUE_ROLE = 'outbox-failure-queue';

/**
 * The transactional outbox: atomic state change + publish.
 *
 * @example
 * const outbox = new TransactionalOutbox(this, 'OrderOutbox', { mode: 'in-item', channels: [orderEvents] });
 * outbox.grantWrite(placeOrder.function); // SWITCHYARD_OUTBOX_TABLE, mode and channel names
 * new cloudwatch.Alarm(this, 'RelayLag', { metric: outbox.metricIteratorAge(), threshold: 60_000, evaluationPeriods: 3 });
 */
export class TransactionalOutbox extends Construct implements IAlarmSource {
  /**
   * Adds the sparse index the polling publisher queries to a table: partition key `unpublished`,
   * sort key `pollKey` (strings), keys only.
   */
  static addPollingIndex(table: dynamodb.Table): void {
    table.addGlobalSecondaryIndex({
      indexName: POLLING_INDEX_NAME,
      partitionKey: { name: OutboxAttributes.UNPUBLISHED, type: dynamodb.AttributeType.STRING },
      sortKey: { name: OutboxAttributes.POLL_KEY, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.KEYS_ONLY,
    });
  }

  readonly table: dynamodb.ITable;
  readonly relay: RelayKind;
  readonly mode: OutboxMode;
  /** The relay (log-tailing) or poller (polling) function. */
  readonly relayFunction: lambda.Function;
  readonly relayRole: iam.Role;
  /** Failure destination: the event source mapping's OnFailure records and records the relay parks with their reason. */
  readonly failureQueue: sqs.Queue;
  /** Polling: the schedule. */
  readonly schedule?: events.Rule;
  /** Log-tailing: the stream event source mapping. */
  readonly eventSource?: sources.DynamoEventSource;
  private readonly createdAlarms: cloudwatch.Alarm[] = [];
  private readonly writers: lambda.Function[] = [];
  private readonly routes = new Map<string, string>();
  private readonly buckets: number;
  private readonly keyNames: { partitionKey: string; sortKey: string };

  constructor(scope: Construct, id: string, props: TransactionalOutboxProps = {}) {
    super(scope, id);
    this.relay = props.relay ?? 'log-tailing';
    this.mode = props.mode ?? 'outbox-items';
    const partitionKey = props.partitionKeyName ?? 'pk';
    const sortKey = props.sortKeyName ?? 'sk';
    this.keyNames = { partitionKey, sortKey };
    this.buckets = props.pollingBuckets ?? 4;
    this.validate(props);

    this.table = props.table ?? this.createTable(partitionKey, sortKey);
    this.failureQueue = new sqs.Queue(this, 'FailureQueue', deadLetterQueueProps({ fifo: false }));
    // How `switchyard dlq list` and `switchyard outbox replay` find it: nothing redrives into it.
    Tags.of(this.failureQueue).add(FAILURE_QUEUE_ROLE_TAG, FAILURE_QUEUE_ROLE);

    this.relayRole = new iam.Role(this, 'RelayRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Role of the outbox relay of ${this.node.path}`,
    });
    const logGroup = new logs.LogGroup(this, 'RelayLogGroup', {
      retention: DEFAULT_LOG_RETENTION,
      removalPolicy: removalPolicyOf(this, props.removalPolicy),
    });
    logGroup.grantWrite(this.relayRole);
    this.relayFunction = new nodejs.NodejsFunction(this, 'Relay', {
      entry: productFunctionEntry(this.relay === 'polling' ? 'outbox-poller' : 'outbox-relay'),
      handler: 'handler',
      description: `Switchyard outbox ${this.relay} relay of ${this.node.path}`,
      runtime: DEFAULT_RUNTIME,
      architecture: DEFAULT_ARCHITECTURE,
      memorySize: DEFAULT_MEMORY_SIZE,
      timeout: Duration.minutes(this.relay === 'polling' ? 1 : 2),
      tracing: lambda.Tracing.ACTIVE,
      role: this.relayRole,
      logGroup,
      // No source map, as ServiceFunction deploys by default (see its `sourceMaps`).
      bundling: { minify: true, sourceMap: false, target: 'node22' },
      environment: {
        [OutboxEnvironment.TABLE]: this.table.tableName,
        [OutboxEnvironment.PARTITION_KEY]: partitionKey,
        [OutboxEnvironment.SORT_KEY]: sortKey,
        [OutboxEnvironment.FAILURE_QUEUE]: this.failureQueue.queueUrl,
        [OutboxEnvironment.BUCKETS]: String(this.buckets),
        SWITCHYARD_OUTBOX_MAX_ATTEMPTS: String(props.maxAttempts ?? 3),
      },
    });
    this.acknowledgeFindings();
    this.failureQueue.grantSendMessages(this.relayFunction);

    if (this.relay === 'log-tailing') {
      // Attempt counters for parking live in the outbox table, and so do parked messages too large
      // for the failure queue (PutItem) and the park markers that keep a retried record from being
      // parked twice (conditional PutItem, then GetItem of the marker on a retry).
      this.table.grant(this.relayFunction, 'dynamodb:UpdateItem', 'dynamodb:PutItem', 'dynamodb:GetItem');
      this.eventSource = new sources.DynamoEventSource(this.table, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: props.batchSize ?? 100,
        maxBatchingWindow: props.maxBatchingWindow,
        bisectBatchOnError: true,
        reportBatchItemFailures: true,
        retryAttempts: props.retryAttempts ?? DEFAULT_RETRY_ATTEMPTS,
        maxRecordAge: props.maxRecordAge ?? Duration.days(1),
        onFailure: new sources.SqsDlq(this.failureQueue),
        filters: [lambda.FilterCriteria.filter({ eventName: [...RELAY_FILTER_PATTERN.eventName] })],
        metricsConfig: { metrics: [lambda.MetricType.EVENT_COUNT] },
      });
      this.relayFunction.addEventSource(this.eventSource);
    } else {
      this.table.grantReadWriteData(this.relayFunction);
      // grantReadWriteData covers indexes only of tables whose indexes CDK knows; an imported table's
      // are unknown, and the poller's Query on the sparse polling index would be denied.
      this.relayFunction.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['dynamodb:Query'],
          resources: [`${this.table.tableArn}/index/*`],
        }),
      );
      this.schedule = new events.Rule(this, 'Schedule', {
        description: `Runs the outbox poller of ${this.node.path}`,
        schedule: events.Schedule.rate(props.pollingInterval ?? Duration.minutes(1)),
        targets: [
          new targets.LambdaFunction(this.relayFunction, {
            retryAttempts: 2,
            deadLetterQueue: this.failureQueue,
          }),
        ],
      });
    }
    for (const channel of props.channels ?? []) this.routeTo(channel);
  }

  /**
   * Lets the relay publish to a channel: grants `sns:Publish` (topic) or `sqs:SendMessage` (queue)
   * and sets `SWITCHYARD_CHANNEL_<NAME>` on every function given to `grantWrite`, so producers can
   * stage messages for the channel by name.
   */
  routeTo(channel: IChannel | OutboxChannel): void {
    const { variable, address } = this.bindRelay(channel);
    // Writers also learn the channel's size limit, so the unit of work checks it before committing.
    const variables = 'bindProducer' in channel ? channelEnvironment(channel) : { [variable]: address };
    for (const [name, value] of Object.entries(variables)) {
      this.routes.set(name, value);
      for (const fn of this.writers) fn.addEnvironment(name, value);
    }
  }

  /**
   * Lets a producer function commit units of work: grants `dynamodb:GetItem`, `PutItem`,
   * `UpdateItem`, `ConditionCheckItem`, `BatchWriteItem`, `DeleteItem` (and read actions) on the
   * table and sets `SWITCHYARD_OUTBOX_TABLE`, `_MODE`, `_RELAY`, the key names and the channel variables.
   */
  grantWrite(fn: lambda.Function): iam.Grant {
    this.writers.push(fn);
    const grant = this.table.grantReadWriteData(fn);
    fn.addEnvironment(OutboxEnvironment.TABLE, this.table.tableName);
    fn.addEnvironment(OutboxEnvironment.MODE, this.mode);
    fn.addEnvironment(OutboxEnvironment.RELAY, this.relay);
    fn.addEnvironment(OutboxEnvironment.BUCKETS, String(this.buckets));
    fn.addEnvironment(OutboxEnvironment.PARTITION_KEY, this.keyNames.partitionKey);
    fn.addEnvironment(OutboxEnvironment.SORT_KEY, this.keyNames.sortKey);
    for (const [variable, address] of this.routes) fn.addEnvironment(variable, address);
    return grant;
  }

  /** Age of the newest record the relay has read (log-tailing): alarm on it to catch a stuck relay. */
  metricIteratorAge(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.relayFunction.metric('IteratorAge', {
      statistic: 'Maximum',
      period: Duration.minutes(1),
      ...props,
    });
  }

  /** Records in the failure queue (parked or given up on): alarm when above zero. */
  metricFailedRecords(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.failureQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', ...props });
  }

  /** Failed invocations of the relay or poller function. */
  metricRelayErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.relayFunction.metricErrors(props);
  }

  /**
   * Polling: age in seconds of the oldest outbox item a poll found and left unpublished (0 when it
   * published everything). The poller writes it to its log in CloudWatch embedded metric format.
   */
  metricOldestUnpublishedAge(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: SWITCHYARD_METRIC_NAMESPACE,
      metricName: OUTBOX_UNPUBLISHED_AGE_METRIC,
      dimensionsMap: { [OUTBOX_TABLE_DIMENSION]: this.table.tableName },
      statistic: 'Maximum',
      period: Duration.minutes(1),
      ...props,
    });
  }

  /** Log-tailing: an EventCount metric of the stream mapping (`PolledEventCount`, `FailedInvokeEventCount`, `OnFailureDestinationDeliveredEventCount`...). */
  metricEventSourceMapping(
    metricName: string,
    props?: cloudwatch.MetricOptions,
  ): cloudwatch.Metric | undefined {
    return this.eventSource
      ? eventSourceMappingMetric(this.eventSource.eventSourceMappingId, metricName, props)
      : undefined;
  }

  get alarms(): readonly cloudwatch.Alarm[] {
    return this.createdAlarms;
  }

  /**
   * Alarms of the outbox: records in the failure queue, relay errors, and lag: the stream iterator
   * age (log-tailing, above 1 minute for 3 periods) or the oldest unpublished item (polling, above 5
   * minutes; a poller that stops reporting counts as breaching).
   */
  addAlarms(thresholds: AlarmThresholds = {}): readonly cloudwatch.Alarm[] {
    if (this.createdAlarms.length > 0) return this.createdAlarms;
    const t = resolveThresholds(thresholds);
    const name = `Switchyard outbox ${this.node.path}`;
    this.createdAlarms.push(
      anyAboveZeroAlarm(
        this,
        'FailureQueueNotEmptyAlarm',
        this.metricFailedRecords({ period: t.period }),
        `${name}: records parked in the relay's failure queue are not published. Inspect with "switchyard dlq show", then "switchyard outbox replay".`,
      ),
      errorAlarm(
        this,
        'RelayErrorsAlarm',
        this.metricRelayErrors({ statistic: 'Sum', period: t.period }),
        t.functionErrors,
        `${name}: the ${this.relay} relay function failed.`,
      ),
    );
    if (this.relay === 'log-tailing') {
      this.createdAlarms.push(
        lagAlarm(
          this,
          'RelayIteratorAgeAlarm',
          this.metricIteratorAge({ period: t.period }),
          t.relayIteratorAge.toMilliseconds(),
          t.lagEvaluationPeriods,
          `${name}: the relay is more than ${t.relayIteratorAge.toHumanString()} behind the table's stream; committed messages are not being published.`,
        ),
      );
    } else {
      this.createdAlarms.push(
        lagAlarm(
          this,
          'UnpublishedAgeAlarm',
          this.metricOldestUnpublishedAge({ period: t.period }),
          t.unpublishedAge.toSeconds(),
          t.lagEvaluationPeriods,
          `${name}: an outbox item has waited more than ${t.unpublishedAge.toHumanString()} to be published, or the poller stopped reporting.`,
          cloudwatch.TreatMissingData.BREACHING,
        ),
      );
    }
    return this.createdAlarms;
  }

  /** Each acknowledged cdk-nag finding with the reason it is safe here. */
  private acknowledgeFindings(): void {
    Validations.of(this.failureQueue).acknowledge({
      id: 'Serverless-SQSRedrivePolicy',
      reason:
        'The failure queue is itself the dead-letter destination of the relay; records end here for inspection and redrive.',
    });
    Validations.of(this.failureQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'The failure queue is itself the dead-letter destination of the relay.',
    });
    const runtimeReason =
      'nodejs22.x is the runtime the Switchyard runtime library is built and tested for; a newer one is adopted after testing.';
    Validations.of(this.relayFunction).acknowledge({ id: 'AwsSolutions-L1', reason: runtimeReason });
    Validations.of(this.relayFunction).acknowledge({
      id: 'Serverless-LambdaLatestVersion',
      reason: runtimeReason,
    });
    Validations.of(this.relayFunction).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason:
        this.relay === 'log-tailing'
          ? 'The relay is invoked synchronously by a stream event source mapping, whose OnFailure destination is the failure queue; a Lambda DLQ applies to asynchronous invocations only.'
          : 'A failed scheduled poll loses nothing: the items stay unpublished and the next poll (one interval later) takes them; failed items are parked in the failure queue by the poller itself.',
    });
    Validations.of(this.relayRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'xray:PutTraceSegments/PutTelemetryRecords and dynamodb:ListStreams (stream event source) have no resource-level permissions.',
    });
    const cfnTable = this.table.node.defaultChild;
    if (this.relay === 'polling' && cfnTable instanceof dynamodb.CfnTable) {
      Validations.of(this.relayRole).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(cfnTable)}.Arn>/index/*]`,
        reason:
          'The poller queries the sparse polling index of the outbox table: its ARN is the table ARN + /index/<name>.',
      });
    }
  }

  private bindRelay(channel: IChannel | OutboxChannel): { variable: string; address: string } {
    if ('bindProducer' in channel) {
      channel.bindProducer(this.relayFunction);
      return { variable: channel.environmentVariable, address: channel.address };
    }
    const problems = new Problems(this);
    if (!channel.topic === !channel.queue) {
      problems.add(`channel "${channel.name}" needs exactly one of topic and queue.`);
    }
    problems.throwIfAny();
    const variable = channelEnvironmentVariable(channel.name);
    if (channel.topic) {
      channel.topic.grantPublish(this.relayFunction);
      return { variable, address: channel.topic.topicArn };
    }
    channel.queue!.grantSendMessages(this.relayFunction);
    return { variable, address: channel.queue!.queueUrl };
  }

  private createTable(partitionKey: string, sortKey: string): dynamodb.Table {
    const table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
      timeToLiveAttribute: OutboxAttributes.EXPIRES_AT,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
    });
    if (this.relay === 'polling') TransactionalOutbox.addPollingIndex(table);
    return table;
  }

  private validate(props: TransactionalOutboxProps): void {
    const problems = new Problems(this);
    const relay = this.relay;
    const mode = this.mode;
    if (relay !== 'log-tailing' && relay !== 'polling') {
      problems.add(`relay "${relay}" is not allowed: use 'log-tailing' or 'polling'.`);
    }
    if (mode !== 'outbox-items' && mode !== 'in-item') {
      problems.add(`mode "${mode}" is not allowed: use 'outbox-items' or 'in-item'.`);
    }
    if (mode === 'in-item' && relay === 'polling') {
      problems.add(
        "mode 'in-item' with relay 'polling' cannot work: the poller reads outbox items, and in-item messages live " +
          "only in the aggregate item and its stream. Use relay 'log-tailing', or mode 'outbox-items'.",
      );
    }
    const retryAttempts = props.retryAttempts;
    if (
      retryAttempts !== undefined &&
      !Token.isUnresolved(retryAttempts) &&
      (retryAttempts < 0 || retryAttempts > 10_000)
    ) {
      problems.add(`retryAttempts ${retryAttempts} is outside 0-10000 (the event source mapping's range).`);
    }
    const maxAttempts = props.maxAttempts;
    if (maxAttempts !== undefined && (!Number.isInteger(maxAttempts) || maxAttempts < 1)) {
      problems.add(`maxAttempts ${maxAttempts} must be a whole number >= 1.`);
    }
    if (props.table) this.validateTable(props, problems);
    if (props.tableStreamViewType && !props.table) {
      problems.add('tableStreamViewType is only for an existing table; remove it or pass table.');
    }
    problems.throwIfAny();
  }

  private validateTable(props: TransactionalOutboxProps, problems: Problems): void {
    const table = props.table!;
    const cfn = table.node.defaultChild instanceof dynamodb.CfnTable ? table.node.defaultChild : undefined;
    const stream = cfn?.streamSpecification as dynamodb.CfnTable.StreamSpecificationProperty | undefined;
    const viewType =
      props.tableStreamViewType ?? (stream?.streamViewType as dynamodb.StreamViewType | undefined);
    if (this.relay === 'log-tailing') {
      const hasStream = table.tableStreamArn !== undefined || viewType !== undefined;
      if (!hasStream) {
        problems.add(
          `relay 'log-tailing' needs a stream on table ${table.node.path}, which has none. Create the table with ` +
            `stream: StreamViewType.${this.mode === 'in-item' ? 'NEW_AND_OLD_IMAGES' : 'NEW_IMAGE'} (or import it with tableStreamArn), or use relay 'polling'.`,
        );
      } else if (viewType === undefined) {
        problems.add(
          `cannot tell the stream view type of imported table ${table.node.path}; pass tableStreamViewType.`,
        );
      } else {
        const needed =
          this.mode === 'in-item'
            ? [dynamodb.StreamViewType.NEW_AND_OLD_IMAGES]
            : [dynamodb.StreamViewType.NEW_IMAGE, dynamodb.StreamViewType.NEW_AND_OLD_IMAGES];
        if (!needed.includes(viewType)) {
          problems.add(
            `table ${table.node.path} streams ${viewType}, but mode '${this.mode}' needs ${needed.join(' or ')}: ` +
              (this.mode === 'in-item'
                ? 'new messages are those in the new image and not in the old one.'
                : 'the relay reads the outbox item from the new image.') +
              ' Change the stream view type (a new stream) or the mode.',
          );
        }
      }
    }
    if (table instanceof dynamodb.Table) {
      const schema = table.schema();
      const hash = schema.partitionKey?.name;
      const range = schema.sortKey?.name;
      const wantHash = props.partitionKeyName ?? 'pk';
      const wantRange = props.sortKeyName ?? 'sk';
      if (hash !== wantHash) {
        problems.add(
          `table ${table.node.path} has partition key "${hash}"; pass partitionKeyName: '${hash}'.`,
        );
      }
      if (this.mode === 'outbox-items' && !range) {
        problems.add(
          `mode 'outbox-items' needs a table with a sort key (outbox items are OUTBOX#<aggregate> + sequence); table ${table.node.path} has none.`,
        );
      } else if (range && range !== wantRange) {
        problems.add(`table ${table.node.path} has sort key "${range}"; pass sortKeyName: '${range}'.`);
      }
      const ttl = (table.node.defaultChild as dynamodb.CfnTable).timeToLiveSpecification as
        | dynamodb.CfnTable.TimeToLiveSpecificationProperty
        | undefined;
      if (!ttl || ttl.attributeName !== OutboxAttributes.EXPIRES_AT || ttl.enabled === false) {
        problems.add(
          `table ${table.node.path} has no TTL on "${OutboxAttributes.EXPIRES_AT}", but the outbox writes items that must expire there ` +
            "(the relay's attempt counters, the poller's leases, published outbox items); without it they pile up. " +
            `Create the table with timeToLiveAttribute: '${OutboxAttributes.EXPIRES_AT}'.`,
        );
      }
      if (this.relay === 'polling' && !hasIndex(table, POLLING_INDEX_NAME)) {
        problems.add(
          `relay 'polling' needs the sparse index "${POLLING_INDEX_NAME}" on table ${table.node.path}; ` +
            'add it with TransactionalOutbox.addPollingIndex(table) before creating the outbox.',
        );
      }
    } else {
      Annotations.of(this).addWarningV2(
        'switchyard:outbox-ttl-unchecked',
        `Imported table: make sure its TTL attribute is "${OutboxAttributes.EXPIRES_AT}", or the relay's attempt counters and leases pile up.`,
      );
    }
    if (!(table instanceof dynamodb.Table) && this.relay === 'polling') {
      Annotations.of(this).addWarningV2(
        'switchyard:outbox-polling-index-unchecked',
        `Imported table: make sure it has the sparse index "${POLLING_INDEX_NAME}" (unpublished/pollKey, strings).`,
      );
    }
  }
}

function hasIndex(table: dynamodb.Table, indexName: string): boolean {
  try {
    table.schema(indexName);
    return true;
  } catch {
    return false;
  }
}
