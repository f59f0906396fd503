/**
 * A consuming service: its own queue + DLQ (or a point-to-point channel's queue), subscribed to
 * publish-subscribe channels with raw delivery and a filter on `message-type`, drained by a Lambda
 * function through an SQS event source with partial batch responses.
 */
import { Annotations, Duration, type RemovalPolicy, Token } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { RetryBackoffEnvironment } from '../lambdas/consumer/retry-backoff';
import type { MessageDefinition } from '../lambdas/core/definition';
import { Headers } from '../lambdas/core/headers';
import {
  type AlarmThresholds,
  anyAboveZeroAlarm,
  errorAlarm,
  eventSourceMappingMetric,
  type IAlarmSource,
  lagAlarm,
  resolveThresholds,
} from './alarms';
import { SQS_DEFAULT_RETENTION_PERIOD } from './claim-check-store';
import {
  DEAD_LETTER_RETENTION,
  DEFAULT_BATCH_SIZE,
  DEFAULT_FUNCTION_TIMEOUT,
  DEFAULT_MAX_RECEIVE_COUNT,
  deadLetterQueueProps,
  MAX_BATCH_SIZE_WITHOUT_WINDOW,
  MAX_FUNCTION_TIMEOUT,
  MAX_MAX_CONCURRENCY,
  MIN_MAX_CONCURRENCY,
  queueProps,
  VISIBILITY_TIMEOUT_FACTOR,
} from './defaults';
import { suppressDeadLetterQueueFindings, suppressEventSourceFindings } from './nag';
import type { IPointToPointChannel } from './point-to-point-channel';
import type { IPublishSubscribeChannel } from './publish-subscribe-channel';
import { ServiceFunction } from './service-function';
import { checkName, Problems } from './validation';

/** Environment variable holding the consumer's name (the key of duplicate detection). */
export const CONSUMER_NAME_VARIABLE = 'SWITCHYARD_CONSUMER_NAME';
/** SQS queue names are at most 80 characters; CDK names consumer queues, the name is used in env and logs. */
const MAX_CONSUMER_NAME = 64;
/** SNS filter policies allow at most 150 values in all. */
const MAX_FILTER_VALUES = 150;
/** SQS event source batch size ceiling for standard queues with a batching window. */
const MAX_STANDARD_BATCH_SIZE = 10_000;

export interface MessageConsumerProps {
  /** Name of the consuming service, `[A-Za-z0-9_-]`, 1-64 characters. Set as `SWITCHYARD_CONSUMER_NAME`. */
  readonly consumerName: string;
  /** Path of the handler's TypeScript entry file. */
  readonly entry: string;
  /**
   * Exported handler name.
   * @default 'handler'
   */
  readonly handler?: string;
  /**
   * Message definitions this consumer handles; the filter policy lets only these types through.
   * Give this or `messageTypes`.
   * @default - none
   */
  readonly handles?: MessageDefinition[];
  /**
   * Message type names this consumer handles, when the definitions are not importable here.
   * @default - none
   */
  readonly messageTypes?: string[];
  /**
   * Publish-subscribe channels whose messages this consumer receives.
   * @default - none
   */
  readonly subscribeTo?: IPublishSubscribeChannel[];
  /**
   * A point-to-point channel to drain instead of a queue of the consumer's own (commands, replies).
   * @default - the consumer creates its own queue and DLQ
   */
  readonly source?: IPointToPointChannel;
  /**
   * Messages must be handled in order per partition key: requires FIFO topics and a FIFO queue.
   * @default false
   */
  readonly ordered?: boolean;
  /**
   * Whether the consumer's own queue is FIFO.
   * @default - the value of `ordered`
   */
  readonly fifo?: boolean;
  /**
   * Extra environment variables of the function.
   * @default - none
   */
  readonly environment?: Record<string, string>;
  /**
   * Function timeout, at most 900 seconds.
   * @default Duration.seconds(30)
   */
  readonly timeout?: Duration;
  /**
   * Function memory in MiB.
   * @default 512
   */
  readonly memorySize?: number;
  /**
   * Records per invocation. At most 10 on FIFO queues, and on standard queues without `maxBatchingWindow`.
   * @default 10
   */
  readonly batchSize?: number;
  /**
   * How long SQS gathers records before invoking.
   * @default - no batching window
   */
  readonly maxBatchingWindow?: Duration;
  /**
   * Most concurrent invocations the event source starts (2-1000).
   * @default - no limit beyond account concurrency
   */
  readonly maxConcurrency?: number;
  /**
   * Visibility timeout of the consumer's own queue; at least 6x the function timeout.
   * @default - 6x the function timeout
   */
  readonly visibilityTimeout?: Duration;
  /**
   * Receives before a message moves to the DLQ.
   * @default 5
   */
  readonly maxReceiveCount?: number;
  /**
   * Customer-managed key for the consumer's queues.
   * @default - SQS-managed SSE
   */
  readonly encryptionMasterKey?: kms.IKey;
  /**
   * An existing DLQ for the consumer's own queue (same FIFO-ness).
   * @default - a new encrypted DLQ kept 14 days
   */
  readonly deadLetterQueue?: sqs.IQueue;
  /**
   * X-Ray tracing of the function.
   * @default lambda.Tracing.ACTIVE
   */
  readonly tracing?: lambda.Tracing;
  /**
   * Retention of the function's log group.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Removal policy of the function's log group.
   * @default - the `switchyard:removalPolicy` context, else RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Retry with backoff: a failed message returns after a jittered delay that doubles with each
   * receive (`base`, 2x, 4x ... up to `max`) instead of after the queue's visibility timeout, and
   * still moves to the DLQ after `maxReceiveCount` receives. FIFO groups wait, in order.
   * @default - no backoff: failed messages return after the visibility timeout
   */
  readonly retryBackoff?: RetryBackoff;
}

/** Delays of retry with backoff. */
export interface RetryBackoff {
  /** Delay of the first retry (at least 1 second). */
  readonly base: Duration;
  /** Longest delay (at most 12 hours, SQS's visibility limit). */
  readonly max: Duration;
}

/**
 * A consuming service of the backbone.
 *
 * @example
 * const history = new MessageConsumer(this, 'OrderHistory', {
 *   consumerName: 'order-history',
 *   entry: 'example/functions/order-history.ts',
 *   handles: [OrderCreated, OrderApproved],
 *   subscribeTo: [orderEvents],
 *   ordered: true,
 * });
 * table.grantReadWriteData(history.handler);
 */
export class MessageConsumer extends Construct implements IAlarmSource {
  /** The queue the function drains. */
  readonly queue: sqs.IQueue;
  /** Where messages go after `maxReceiveCount` failed receives. */
  readonly deadLetterQueue: sqs.IQueue;
  /** The consumer function. */
  readonly handler: lambda.Function;
  /** The function with its role and log group. */
  readonly service: ServiceFunction;
  readonly consumerName: string;
  /** The message types the filter policy lets through. */
  readonly messageTypes: readonly string[];
  readonly fifo: boolean;
  /** The SQS event source mapping (its id is the dimension of the mapping's EventCount metrics). */
  readonly eventSource: sources.SqsEventSource;
  /** Whether the DLQ is the consumer's own (created or given here), not a source channel's. */
  readonly ownsDeadLetterQueue: boolean;
  private readonly createdAlarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: MessageConsumerProps) {
    super(scope, id);
    this.consumerName = props.consumerName;
    this.messageTypes = [
      ...new Set([...(props.handles ?? []).map((d) => d.type), ...(props.messageTypes ?? [])]),
    ];
    this.fifo = props.source ? props.source.fifo : (props.fifo ?? props.ordered ?? false);
    const timeout = props.timeout ?? DEFAULT_FUNCTION_TIMEOUT;
    this.validate(props, timeout);

    this.ownsDeadLetterQueue = !props.source?.deadLetterQueue;
    if (props.source) {
      this.queue = props.source.queue;
      // validate() made sure one of the two is there.
      this.deadLetterQueue = (props.source.deadLetterQueue ?? props.deadLetterQueue)!;
    } else {
      this.deadLetterQueue =
        props.deadLetterQueue ??
        new sqs.Queue(this, 'DeadLetterQueue', {
          ...deadLetterQueueProps({ fifo: this.fifo, encryptionKey: props.encryptionMasterKey }),
        });
      this.queue = new sqs.Queue(this, 'Resource', {
        ...queueProps({ encryptionKey: props.encryptionMasterKey }),
        fifo: this.fifo || undefined,
        deduplicationScope: this.fifo ? sqs.DeduplicationScope.MESSAGE_GROUP : undefined,
        fifoThroughputLimit: this.fifo ? sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID : undefined,
        visibilityTimeout:
          props.visibilityTimeout ??
          (Token.isUnresolved(timeout)
            ? undefined
            : Duration.seconds(timeout.toSeconds() * VISIBILITY_TIMEOUT_FACTOR)),
        deadLetterQueue: {
          queue: this.deadLetterQueue,
          maxReceiveCount: props.maxReceiveCount ?? DEFAULT_MAX_RECEIVE_COUNT,
        },
      });
      suppressDeadLetterQueueFindings(this.deadLetterQueue);
    }

    this.subscribe(props.subscribeTo ?? []);

    this.service = new ServiceFunction(this, 'Handler', {
      entry: props.entry,
      handler: props.handler,
      timeout,
      memorySize: props.memorySize,
      tracing: props.tracing,
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
      description: `Switchyard consumer ${props.consumerName} (${this.messageTypes.join(', ')})`,
      environment: {
        ...(props.environment ?? {}),
        [CONSUMER_NAME_VARIABLE]: props.consumerName,
        ...(props.retryBackoff
          ? {
              [RetryBackoffEnvironment.BASE_SECONDS]: String(props.retryBackoff.base.toSeconds()),
              [RetryBackoffEnvironment.MAX_SECONDS]: String(props.retryBackoff.max.toSeconds()),
            }
          : {}),
      },
    });
    this.handler = this.service.function;
    this.eventSource = new sources.SqsEventSource(this.queue, {
      batchSize: props.batchSize ?? DEFAULT_BATCH_SIZE,
      maxBatchingWindow: props.maxBatchingWindow,
      maxConcurrency: props.maxConcurrency,
      reportBatchItemFailures: true,
      // Polled, invoked, deleted and failed event counts per mapping, for the dashboard and alarms.
      metricsConfig: { metrics: [lambda.MetricType.EVENT_COUNT] },
    });
    this.handler.addEventSource(this.eventSource);
    suppressEventSourceFindings(this.handler);
    this.wireClaimChecks(props);
  }

  /** Lets the handler read the claims of its channels, and keeps claims as long as its queues hold references. */
  private wireClaimChecks(props: MessageConsumerProps): void {
    for (const channel of props.subscribeTo ?? []) {
      if (!channel.claimCheck) continue;
      channel.claimCheck.grantRead(this.handler, channel.channelName);
      channel.claimCheck.addQueueWithDeadLetterQueue(
        this.queue,
        SQS_DEFAULT_RETENTION_PERIOD,
        this.deadLetterQueue,
        props.deadLetterQueue ? undefined : DEAD_LETTER_RETENTION,
      );
    }
    // A point-to-point channel registers its own queues with its store.
    if (props.source?.claimCheck) props.source.claimCheck.grantRead(this.handler, props.source.channelName);
  }

  /** Grants sending to the consumer's queue (`sqs:SendMessage`...), e.g. for a redrive tool. */
  grantSendToQueue(grantee: iam.IGrantable): iam.Grant {
    return this.queue.grantSendMessages(grantee);
  }

  /** Grants reading and deleting DLQ messages, e.g. for an operator's redrive tool. */
  grantConsumeDeadLetters(grantee: iam.IGrantable): iam.Grant {
    return this.deadLetterQueue.grantConsumeMessages(grantee);
  }

  /** Age of the oldest message waiting: the consumer's lag. */
  metricApproximateAgeOfOldestMessage(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.queue.metricApproximateAgeOfOldestMessage(props);
  }

  /** Messages waiting in the queue. */
  metricApproximateNumberOfMessagesVisible(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.queue.metricApproximateNumberOfMessagesVisible(props);
  }

  /** Messages in the DLQ: each is a message the consumer could not handle. Alarm on > 0. */
  metricDeadLetterQueueMessagesVisible(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', ...props });
  }

  /** Function errors (whole-invocation failures; per-message failures show in the DLQ). */
  metricErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.handler.metricErrors(props);
  }

  /** Function invocations. */
  metricInvocations(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.handler.metricInvocations(props);
  }

  /** Function duration (p99 by default: the slow batches are what delays a queue). */
  metricDuration(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.handler.metricDuration({ statistic: 'p99', ...props });
  }

  /**
   * An EventCount metric of the consumer's event source mapping: `PolledEventCount`,
   * `InvokedEventCount`, `FailedInvokeEventCount`, `DeletedEventCount`, `FilteredOutEventCount`.
   */
  metricEventSourceMapping(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return eventSourceMappingMetric(this.eventSource.eventSourceMappingId, metricName, props);
  }

  get alarms(): readonly cloudwatch.Alarm[] {
    return this.createdAlarms;
  }

  /**
   * Alarms of the consumer: messages in its own DLQ (a source channel's DLQ is that channel's alarm),
   * the oldest message on its queue older than `oldestMessageAge` (5 minutes) for 3 periods, function
   * errors, and events the event source mapping failed to invoke the function with.
   */
  addAlarms(thresholds: AlarmThresholds = {}): readonly cloudwatch.Alarm[] {
    if (this.createdAlarms.length > 0) return this.createdAlarms;
    const t = resolveThresholds(thresholds);
    const name = `Switchyard consumer ${this.consumerName}`;
    if (this.ownsDeadLetterQueue) {
      this.createdAlarms.push(
        anyAboveZeroAlarm(
          this,
          'DeadLetterQueueNotEmptyAlarm',
          this.metricDeadLetterQueueMessagesVisible({ period: t.period }),
          `${name}: messages in its DLQ. Inspect with "switchyard dlq show", fix the cause, then "switchyard dlq redrive".`,
        ),
      );
    }
    this.createdAlarms.push(
      lagAlarm(
        this,
        'OldestMessageAgeAlarm',
        this.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: t.period }),
        t.oldestMessageAge.toSeconds(),
        t.lagEvaluationPeriods,
        `${name}: the oldest message waiting is older than ${t.oldestMessageAge.toHumanString()}: the consumer is stuck, throttled or too slow.`,
      ),
      errorAlarm(
        this,
        'FunctionErrorsAlarm',
        this.metricErrors({ statistic: 'Sum', period: t.period }),
        t.functionErrors,
        `${name}: the function failed whole invocations (timeouts, crashes, wiring errors). Per-message failures go to the DLQ.`,
      ),
      errorAlarm(
        this,
        'EventSourceMappingFailedInvokeAlarm',
        this.metricEventSourceMapping('FailedInvokeEventCount', { period: t.period }),
        0,
        `${name}: the event source mapping could not invoke the function with some events (throttling, permissions, timeouts).`,
      ),
    );
    return this.createdAlarms;
  }

  private subscribe(channels: readonly IPublishSubscribeChannel[]): void {
    for (const channel of channels) {
      channel.topic.addSubscription(
        new subscriptions.SqsSubscription(this.queue, {
          rawMessageDelivery: true,
          filterPolicy: {
            [Headers.TYPE]: sns.SubscriptionFilter.stringFilter({ allowlist: [...this.messageTypes] }),
          },
          // Deliveries SNS gives up on (e.g. the queue's key is unusable) land where failed handling does.
          deadLetterQueue: this.deadLetterQueue,
        }),
      );
    }
  }

  private validate(props: MessageConsumerProps, timeout: Duration): void {
    const problems = new Problems(this);
    checkName(problems, 'consumerName', props.consumerName, MAX_CONSUMER_NAME);
    this.validateMessageTypes(problems, props);
    this.validateTopology(problems, props);
    this.validateTimeouts(problems, props, timeout);
    this.validateEventSource(problems, props);
    const backoff = props.retryBackoff;
    if (backoff && !Token.isUnresolved(backoff.base) && !Token.isUnresolved(backoff.max)) {
      const base = backoff.base.toSeconds();
      const max = backoff.max.toSeconds();
      if (base < 1 || max < base || max > 43_200) {
        problems.add(
          `retryBackoff is base ${base} s, max ${max} s; it needs 1 s <= base <= max <= 43,200 s (12 hours, SQS's visibility limit), e.g. { base: Duration.seconds(30), max: Duration.minutes(15) }.`,
        );
      }
    }
    problems.throwIfAny();
  }

  private validateMessageTypes(problems: Problems, props: MessageConsumerProps): void {
    if (this.messageTypes.length === 0) {
      problems.add(
        'the consumer handles no message types (handles and messageTypes are empty): it would receive nothing. ' +
          'Pass handles: [OrderCreated, ...] with the definitions its handler registers.',
      );
    }
    if (this.messageTypes.length > MAX_FILTER_VALUES && (props.subscribeTo?.length ?? 0) > 0) {
      problems.add(
        `the consumer handles ${this.messageTypes.length} message types; an SNS filter policy allows at most ${MAX_FILTER_VALUES} values. Split it into several consumers.`,
      );
    }
  }

  private validateTopology(problems: Problems, props: MessageConsumerProps): void {
    const topics = props.subscribeTo ?? [];
    if (topics.length === 0 && !props.source) {
      problems.add(
        'the consumer has no source: give subscribeTo (publish-subscribe channels) and/or source (a point-to-point channel).',
      );
    }
    if (props.source && (props.visibilityTimeout || props.fifo !== undefined)) {
      problems.add(
        "visibilityTimeout and fifo configure the consumer's own queue, but source is set, so the queue is the channel's. Set them on the PointToPointChannel instead.",
      );
    }
    if (props.source?.deadLetterQueue && props.deadLetterQueue) {
      problems.add(
        `deadLetterQueue is set but source channel "${props.source.channelName}" already has its DLQ. Omit deadLetterQueue.`,
      );
    }
    if (props.source && !props.source.deadLetterQueue && !props.deadLetterQueue) {
      problems.add(
        `source channel "${props.source.channelName}" is imported, so its DLQ is unknown here. Pass deadLetterQueue (e.g. sqs.Queue.fromQueueArn of the channel's DLQ) so metrics and subscriptions use it.`,
      );
    }
    for (const channel of topics) {
      if (!channel.fifo && this.fifo) {
        problems.add(
          `channel "${channel.channelName}" is a standard topic but the consumer's queue is FIFO: SNS only delivers to FIFO queues from FIFO topics. ` +
            'Make the channel FIFO, or set fifo: false (and ordered: false) on the consumer.',
        );
      }
      if (channel.fifo && !this.fifo) {
        if (props.ordered) {
          problems.add(
            `ordered is true but the queue is standard while channel "${channel.channelName}" is FIFO: a standard queue loses the order. ` +
              'Remove fifo: false so the consumer gets a FIFO queue.',
          );
        } else {
          Annotations.of(this).addWarningV2(
            'switchyard:fifoTopicToStandardQueue',
            `Channel "${channel.channelName}" is FIFO but this consumer's queue is standard, so messages may arrive out of order and twice. Set ordered: true if the order matters.`,
          );
        }
      }
    }
    if (props.ordered && !this.fifo) {
      problems.add(
        `ordered is true but the consumer's queue is standard${props.source ? ` (source channel "${props.source.channelName}")` : ''}: ordering needs FIFO end to end. ` +
          'Use a FIFO channel and leave fifo unset (it follows ordered).',
      );
    }
    if (props.ordered && topics.some((t) => !t.fifo)) {
      problems.add(
        'ordered is true but some subscribed channels are standard topics, which do not keep order. Subscribe to FIFO channels only.',
      );
    }
    if (props.deadLetterQueue && !props.source && props.deadLetterQueue.fifo !== this.fifo) {
      problems.add(
        `deadLetterQueue is ${props.deadLetterQueue.fifo ? 'FIFO' : 'standard'} but the consumer's queue is ${this.fifo ? 'FIFO' : 'standard'}: ` +
          'SQS requires a DLQ of the same type as its source queue. Pass a matching queue or omit deadLetterQueue.',
      );
    }
  }

  private validateTimeouts(problems: Problems, props: MessageConsumerProps, timeout: Duration): void {
    if (Token.isUnresolved(timeout)) return;
    const timeoutSeconds = timeout.toSeconds();
    if (timeoutSeconds > MAX_FUNCTION_TIMEOUT.toSeconds()) {
      problems.add(
        `timeout is ${timeoutSeconds} s; Lambda allows at most 900 s. Lower it or split the work.`,
      );
    }
    const required = timeoutSeconds * VISIBILITY_TIMEOUT_FACTOR;
    const visibility = props.visibilityTimeout ?? props.source?.visibilityTimeout;
    if (visibility && !Token.isUnresolved(visibility) && visibility.toSeconds() < required) {
      const where = props.visibilityTimeout
        ? 'visibilityTimeout'
        : `the visibility timeout of channel "${props.source?.channelName}"`;
      problems.add(
        `${where} is ${visibility.toSeconds()} s but the function timeout is ${timeoutSeconds} s: it must be at least ` +
          `${VISIBILITY_TIMEOUT_FACTOR}x (${required} s) so a message is not redelivered while still being handled. ` +
          `Raise it to ${required} s or more, or lower the timeout.`,
      );
    }
  }

  private validateEventSource(problems: Problems, props: MessageConsumerProps): void {
    const batchSize = props.batchSize;
    if (batchSize !== undefined && !Token.isUnresolved(batchSize)) {
      if (batchSize < 1 || !Number.isInteger(batchSize)) {
        problems.add(`batchSize is ${batchSize}; it must be a whole number of at least 1.`);
      } else if (this.fifo && batchSize > MAX_BATCH_SIZE_WITHOUT_WINDOW) {
        problems.add(`batchSize is ${batchSize} on a FIFO queue; SQS allows 1-10 there. Use 10 or less.`);
      } else if (!this.fifo && batchSize > MAX_BATCH_SIZE_WITHOUT_WINDOW && !props.maxBatchingWindow) {
        problems.add(
          `batchSize is ${batchSize} without maxBatchingWindow; above 10 SQS needs a batching window. Set maxBatchingWindow (e.g. Duration.seconds(1)) or use 10 or less.`,
        );
      } else if (batchSize > MAX_STANDARD_BATCH_SIZE) {
        problems.add(`batchSize is ${batchSize}; SQS allows at most ${MAX_STANDARD_BATCH_SIZE}.`);
      }
    }
    const concurrency = props.maxConcurrency;
    if (
      concurrency !== undefined &&
      !Token.isUnresolved(concurrency) &&
      (concurrency < MIN_MAX_CONCURRENCY || concurrency > MAX_MAX_CONCURRENCY)
    ) {
      problems.add(
        `maxConcurrency is ${concurrency}; SQS event sources allow ${MIN_MAX_CONCURRENCY}-${MAX_MAX_CONCURRENCY}. Pick a value in range or omit it.`,
      );
    }
  }
}
