/**
 * A point-to-point channel: an SQS queue (standard or FIFO) with its DLQ, encrypted, TLS-only.
 * Commands go here; exactly one consumer reads it (see MessageConsumer's `source`).
 */
import { ArnFormat, Duration, Stack, Token } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import type { MessageDefinition } from '../lambdas/core/definition';
import { SQS_DEFAULT_MAX_MESSAGE_BYTES } from '../lambdas/producer/channel-limits';
import { type AlarmThresholds, anyAboveZeroAlarm, type IAlarmSource } from './alarms';
import {
  bindChannel,
  type ChannelImportOptions,
  type ChannelSsmImportOptions,
  channelEnvironmentVariable,
  defaultParameterName,
  type IChannel,
  importedIdentity,
  lastSegment,
  writeChannelParameters,
} from './channel';
import {
  DEFAULT_FUNCTION_TIMEOUT,
  DEFAULT_MAX_RECEIVE_COUNT,
  deadLetterQueueProps,
  queueProps,
  VISIBILITY_TIMEOUT_FACTOR,
} from './defaults';
import { suppressDeadLetterQueueFindings } from './nag';
import { checkName, Problems } from './validation';

/** SQS queue names are at most 80 characters; we keep room for `-dlq` and `.fifo`. */
const MAX_QUEUE_NAME = 80;
const DLQ_SUFFIX = '-dlq';
const FIFO_SUFFIX = '.fifo';

export interface PointToPointChannelProps {
  /** Channel name: `[A-Za-z0-9_-]`, at most 76 characters (71 for FIFO); also the queue name. */
  readonly channelName: string;
  /**
   * FIFO queue: ordered per partition key (MessageGroupId), deduplicated, high-throughput mode.
   * @default false
   */
  readonly fifo?: boolean;
  /**
   * FIFO only: deduplicate on a hash of the body instead of the message id.
   * @default false
   */
  readonly contentBasedDeduplication?: boolean;
  /**
   * Visibility timeout. Must be at least 6x the timeout of the function that consumes the queue.
   * @default Duration.seconds(180) - 6x the default 30 s function timeout
   */
  readonly visibilityTimeout?: Duration;
  /**
   * How long messages stay in the queue.
   * @default Duration.days(4)
   */
  readonly retentionPeriod?: Duration;
  /**
   * Receives before a message moves to the DLQ.
   * @default 5
   */
  readonly maxReceiveCount?: number;
  /**
   * Customer-managed key for SSE.
   * @default - SQS-managed SSE
   */
  readonly encryptionMasterKey?: kms.IKey;
  /**
   * An existing dead-letter queue (same FIFO-ness as the channel).
   * @default - a new encrypted DLQ kept 14 days
   */
  readonly deadLetterQueue?: sqs.IQueue;
  /**
   * The message types sent on this channel.
   * @default - none declared
   */
  readonly messages?: MessageDefinition[];
  /**
   * Name of the backbone, used in the default SSM parameter name.
   * @default - the stack name
   */
  readonly backboneName?: string;
  /**
   * Largest message the queue accepts, in bytes (body + attributes), 1,024 to 1,048,576. Producers
   * bound to the channel check this limit.
   * @default 1048576 - the SQS maximum
   */
  readonly maximumMessageSize?: number;
}

/** A point-to-point channel, created here or imported. */
export interface IPointToPointChannel extends IChannel {
  readonly queue: sqs.IQueue;
  /** The DLQ; undefined for imported channels. */
  readonly deadLetterQueue?: sqs.IQueue;
  /** The queue's visibility timeout when known (undefined for imports). */
  readonly visibilityTimeout?: Duration;
  /** Grants `sqs:SendMessage`, `sqs:GetQueueAttributes`, `sqs:GetQueueUrl` (and key actions when encrypted with KMS). */
  grantSend(grantee: iam.IGrantable): iam.Grant;
  /** Grants receive, delete, change visibility and attribute reads. */
  grantConsume(grantee: iam.IGrantable): iam.Grant;
  /** Age of the oldest message: the backlog a slow consumer builds. */
  metricApproximateAgeOfOldestMessage(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Messages waiting in the queue. */
  metricApproximateNumberOfMessagesVisible(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
}

abstract class PointToPointChannelBase extends Construct implements IPointToPointChannel {
  abstract readonly queue: sqs.IQueue;
  abstract readonly deadLetterQueue?: sqs.IQueue;
  abstract readonly visibilityTimeout?: Duration;
  abstract readonly channelName: string;
  abstract readonly fifo: boolean;
  abstract readonly messages: readonly MessageDefinition[];

  get address(): string {
    return this.queue.queueUrl;
  }

  get environmentVariable(): string {
    return channelEnvironmentVariable(this.channelName);
  }

  grantSend(grantee: iam.IGrantable): iam.Grant {
    return this.queue.grantSendMessages(grantee);
  }

  grantConsume(grantee: iam.IGrantable): iam.Grant {
    return this.queue.grantConsumeMessages(grantee);
  }

  bindProducer(fn: lambda.Function): iam.Grant {
    return bindChannel(this, fn, this.grantSend(fn));
  }

  metricApproximateAgeOfOldestMessage(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.queue.metricApproximateAgeOfOldestMessage(props);
  }

  metricApproximateNumberOfMessagesVisible(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.queue.metricApproximateNumberOfMessagesVisible(props);
  }
}

/**
 * A point-to-point channel (SQS queue + DLQ) with Switchyard's secure defaults.
 *
 * @example
 * const kitchenCommands = new PointToPointChannel(this, 'KitchenCommands', {
 *   channelName: 'kitchen-commands',
 *   messages: [CreateTicket],
 * });
 * kitchenCommands.bindProducer(placeOrder.function); // sets SWITCHYARD_CHANNEL_KITCHEN_COMMANDS
 */
export class PointToPointChannel extends PointToPointChannelBase implements IAlarmSource {
  /**
   * Imports a queue by ARN (e.g. from another app).
   *
   * @example
   * const commands = PointToPointChannel.fromChannelArn(this, 'KitchenCommands',
   *   'arn:aws:sqs:eu-west-1:123456789012:kitchen-commands');
   */
  static fromChannelArn(
    scope: Construct,
    id: string,
    queueArn: string,
    options: ChannelImportOptions = {},
  ): IPointToPointChannel {
    return new ImportedPointToPointChannel(scope, id, queueArn, options);
  }

  /**
   * Imports a queue whose ARN another stack exported with `exportToSsm`. The parameter is resolved at deploy time.
   *
   * @example
   * const commands = PointToPointChannel.fromSsmParameter(this, 'KitchenCommands',
   *   '/switchyard/SwitchyardFoodDelivery/channels/kitchen-commands');
   */
  static fromSsmParameter(
    scope: Construct,
    id: string,
    parameterName: string,
    options: ChannelSsmImportOptions = {},
  ): IPointToPointChannel {
    const segment = lastSegment(parameterName);
    const queueArn = ssm.StringParameter.valueForStringParameter(scope, parameterName);
    const keyArn = options.keyArnParameterName
      ? ssm.StringParameter.valueForStringParameter(scope, options.keyArnParameterName)
      : undefined;
    return new ImportedPointToPointChannel(scope, id, queueArn, {
      channelName:
        options.channelName ?? importedIdentity(scope, segment, options, 'the parameter name').channelName,
      fifo: options.fifo ?? segment.endsWith(FIFO_SUFFIX),
      keyArn,
    });
  }

  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly visibilityTimeout: Duration;
  readonly channelName: string;
  readonly fifo: boolean;
  readonly messages: readonly MessageDefinition[];
  /** Largest message the queue accepts, in bytes. */
  readonly maxMessageBytes: number;
  private readonly backboneName?: string;

  constructor(scope: Construct, id: string, props: PointToPointChannelProps) {
    super(scope, id);
    this.fifo = props.fifo ?? false;
    this.channelName = props.channelName;
    this.messages = props.messages ?? [];
    this.backboneName = props.backboneName;
    this.maxMessageBytes = props.maximumMessageSize ?? SQS_DEFAULT_MAX_MESSAGE_BYTES;
    this.visibilityTimeout =
      props.visibilityTimeout ??
      Duration.seconds(DEFAULT_FUNCTION_TIMEOUT.toSeconds() * VISIBILITY_TIMEOUT_FACTOR);
    this.validate(props);

    this.deadLetterQueue =
      props.deadLetterQueue ??
      new sqs.Queue(this, 'DeadLetterQueue', {
        ...deadLetterQueueProps({ fifo: this.fifo, encryptionKey: props.encryptionMasterKey }),
        queueName: this.queueName(DLQ_SUFFIX),
      });
    suppressDeadLetterQueueFindings(this.deadLetterQueue);
    this.queue = new sqs.Queue(this, 'Resource', {
      ...queueProps({ encryptionKey: props.encryptionMasterKey }),
      queueName: this.queueName(''),
      fifo: this.fifo || undefined,
      contentBasedDeduplication: this.fifo ? props.contentBasedDeduplication : undefined,
      deduplicationScope: this.fifo ? sqs.DeduplicationScope.MESSAGE_GROUP : undefined,
      fifoThroughputLimit: this.fifo ? sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID : undefined,
      visibilityTimeout: this.visibilityTimeout,
      retentionPeriod: props.retentionPeriod,
      maxMessageSizeBytes: props.maximumMessageSize,
      deadLetterQueue: {
        queue: this.deadLetterQueue,
        maxReceiveCount: props.maxReceiveCount ?? DEFAULT_MAX_RECEIVE_COUNT,
      },
    });
  }

  /** The queue name: the channel name, plus `.fifo` for FIFO channels. */
  get physicalName(): string {
    return this.queueName('');
  }

  /** Messages waiting in the DLQ: each is a message no consumer could handle. */
  metricDeadLetterQueueMessagesVisible(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', ...props });
  }

  private readonly createdAlarms: cloudwatch.Alarm[] = [];

  get alarms(): readonly cloudwatch.Alarm[] {
    return this.createdAlarms;
  }

  /**
   * Alarms of the channel: its DLQ holds a message. (The age of the oldest message is the alarm of
   * the consumer that drains the queue, see `MessageConsumer.addAlarms`.)
   */
  addAlarms(thresholds: AlarmThresholds = {}): readonly cloudwatch.Alarm[] {
    if (this.createdAlarms.length > 0) return this.createdAlarms;
    this.createdAlarms.push(
      anyAboveZeroAlarm(
        this,
        'DeadLetterQueueNotEmptyAlarm',
        this.metricDeadLetterQueueMessagesVisible({ period: thresholds.period }),
        `Switchyard channel ${this.physicalName}: messages in its DLQ. Inspect with "switchyard dlq show", fix, then "switchyard dlq redrive".`,
      ),
    );
    return this.createdAlarms;
  }

  /**
   * Writes the queue ARN to SSM, for `fromSsmParameter`.
   *
   * @param parameterName default `/switchyard/<backbone>/channels/<queue name>`
   */
  exportToSsm(parameterName?: string): ssm.StringParameter {
    return writeChannelParameters(
      this,
      parameterName ?? defaultParameterName(this, this.backboneName, this.physicalName),
      this.queue.queueArn,
      `ARN of the Switchyard point-to-point channel ${this.physicalName}`,
      this.queue.encryptionMasterKey?.keyArn,
    );
  }

  private queueName(suffix: string): string {
    return `${this.channelName}${suffix}${this.fifo ? FIFO_SUFFIX : ''}`;
  }

  private validate(props: PointToPointChannelProps): void {
    const problems = new Problems(this);
    checkName(
      problems,
      'channelName',
      props.channelName,
      MAX_QUEUE_NAME,
      DLQ_SUFFIX.length + (this.fifo ? FIFO_SUFFIX.length : 0),
    );
    if (!this.fifo && props.contentBasedDeduplication) {
      problems.add(
        'contentBasedDeduplication is true but fifo is false: only FIFO queues deduplicate. Set fifo: true or drop contentBasedDeduplication.',
      );
    }
    if (props.deadLetterQueue && props.deadLetterQueue.fifo !== this.fifo) {
      problems.add(
        `deadLetterQueue is ${props.deadLetterQueue.fifo ? 'FIFO' : 'standard'} but the channel is ${this.fifo ? 'FIFO' : 'standard'}: ` +
          'SQS requires a DLQ of the same type as its source queue. Pass a matching queue or omit deadLetterQueue to get one made for you.',
      );
    }
    const receives = props.maxReceiveCount;
    if (receives !== undefined && !Token.isUnresolved(receives) && (receives < 1 || receives > 1000)) {
      problems.add(`maxReceiveCount is ${receives}; SQS allows 1-1000. 5 is a good default.`);
    }
    const size = props.maximumMessageSize;
    if (
      size !== undefined &&
      !Token.isUnresolved(size) &&
      (!Number.isInteger(size) || size < 1_024 || size > SQS_DEFAULT_MAX_MESSAGE_BYTES)
    ) {
      problems.add(
        `maximumMessageSize is ${size}; SQS allows whole numbers of bytes from 1024 to ${SQS_DEFAULT_MAX_MESSAGE_BYTES} (1 MiB). Omit it for the maximum.`,
      );
    }
    problems.throwIfAny();
  }
}

class ImportedPointToPointChannel extends PointToPointChannelBase {
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue?: sqs.IQueue = undefined;
  readonly visibilityTimeout?: Duration = undefined;
  readonly channelName: string;
  readonly fifo: boolean;
  readonly messages: readonly MessageDefinition[] = [];

  constructor(scope: Construct, id: string, queueArn: string, options: ChannelImportOptions) {
    super(scope, id);
    const queueName = Stack.of(this).splitArn(queueArn, ArnFormat.NO_RESOURCE_NAME).resource;
    const identity = importedIdentity(this, queueName, options, 'the queue ARN');
    this.channelName = identity.channelName;
    this.fifo = identity.fifo;
    this.queue = sqs.Queue.fromQueueAttributes(this, 'Resource', {
      queueArn,
      fifo: this.fifo,
      keyArn: options.keyArn,
    });
  }
}
