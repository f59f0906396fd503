/**
 * A publish-subscribe channel: an SNS topic (standard or FIFO), encrypted with a customer-managed
 * key, TLS-only. Consumers subscribe their own queues to it (see MessageConsumer).
 */
import { Token } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import type { MessageDefinition } from '../lambdas/core/definition';
import { LARGE_MAX_MESSAGE_BYTES, SNS_DEFAULT_MAX_MESSAGE_BYTES } from '../lambdas/producer/channel-limits';
import { type AlarmThresholds, anyAboveZeroAlarm, type IAlarmSource } from './alarms';
import {
  bindChannel,
  type ChannelImportOptions,
  type ChannelSsmImportOptions,
  channelEnvironmentVariable,
  defaultParameterName,
  type IChannel,
  importedIdentity,
  KEY_ARN_PARAMETER_SUFFIX,
  lastSegment,
  writeChannelParameters,
} from './channel';
import { createTopicKey, topicProps } from './defaults';
import { checkName, Problems } from './validation';

/** SNS topic names are at most 256 characters, the `.fifo` suffix included. */
const MAX_TOPIC_NAME = 256;
const FIFO_SUFFIX = '.fifo';
/** Smallest MaximumMessageSize a topic can set. */
const MIN_MAX_MESSAGE_SIZE = 1_024;
/** A topic with large messages accepts at most this many subscriptions... */
const MAX_LARGE_MESSAGE_SUBSCRIPTIONS = 100;
/** ...and only these protocols. */
const LARGE_MESSAGE_PROTOCOLS: readonly string[] = [
  sns.SubscriptionProtocol.SQS,
  sns.SubscriptionProtocol.LAMBDA,
  sns.SubscriptionProtocol.FIREHOSE,
];

export interface PublishSubscribeChannelProps {
  /** Channel name: 1-256 characters of `[A-Za-z0-9_-]`; also the topic name (plus `.fifo` for FIFO). */
  readonly channelName: string;
  /**
   * FIFO topic: ordered per partition key (MessageGroupId) and deduplicated.
   * @default false
   */
  readonly fifo?: boolean;
  /**
   * FIFO only: deduplicate on a hash of the body instead of the message id.
   * @default false
   */
  readonly contentBasedDeduplication?: boolean;
  /**
   * FIFO only: throughput scope. `MESSAGE_GROUP` is high-throughput mode, ordered per partition key.
   * @default sns.FifoThroughputScope.MESSAGE_GROUP
   */
  readonly fifoThroughputScope?: sns.FifoThroughputScope;
  /**
   * Key for server-side encryption (SNS cannot use SQS-managed SSE).
   * @default - a new customer-managed key for this channel, rotation on
   */
  readonly masterKey?: kms.IKey;
  /**
   * The message types published on this channel.
   * @default - none declared
   */
  readonly messages?: MessageDefinition[];
  /**
   * Name of the backbone, used in the default SSM parameter name.
   * @default - the stack name
   */
  readonly backboneName?: string;
  /**
   * Largest message the topic accepts, in bytes (body + attributes), 1,024 to 1,048,576. Above
   * 262,144 the topic opts into SNS large messages: it then admits at most 100 subscriptions, all
   * SQS, Lambda or Firehose (checked at synth). Producers bound to the channel check this limit.
   * @default 262144 - the SNS default
   */
  readonly maximumMessageSize?: number;
}

/** A publish-subscribe channel, created here or imported. */
export interface IPublishSubscribeChannel extends IChannel {
  readonly topic: sns.ITopic;
  /** Grants `sns:Publish` (and `kms:Decrypt`, `kms:GenerateDataKey` on the topic key when known). */
  grantPublish(grantee: iam.IGrantable): iam.Grant;
  /** Messages published to the topic. */
  metricNumberOfMessagesPublished(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Deliveries SNS gave up on (they go to the subscription's DLQ). */
  metricNumberOfNotificationsFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Deliveries that subscription filter policies dropped (messages nobody subscribed to). */
  metricNumberOfNotificationsFilteredOut(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
}

abstract class PublishSubscribeChannelBase extends Construct implements IPublishSubscribeChannel {
  abstract readonly topic: sns.ITopic;
  abstract readonly channelName: string;
  abstract readonly fifo: boolean;
  abstract readonly messages: readonly MessageDefinition[];

  get address(): string {
    return this.topic.topicArn;
  }

  get environmentVariable(): string {
    return channelEnvironmentVariable(this.channelName);
  }

  /** The key the topic is encrypted with, when known. */
  abstract readonly masterKey?: kms.IKey;

  grantPublish(grantee: iam.IGrantable): iam.Grant {
    // Explicit actions instead of topic.grantPublish, which grants the wildcard kms:GenerateDataKey*.
    const grant = iam.Grant.addToPrincipalOrResource({
      grantee,
      actions: ['sns:Publish'],
      resourceArns: [this.topic.topicArn],
      resource: this.topic,
    });
    this.masterKey?.grant(grantee, 'kms:Decrypt', 'kms:GenerateDataKey');
    return grant;
  }

  bindProducer(fn: lambda.Function): iam.Grant {
    return bindChannel(this, fn, this.grantPublish(fn));
  }

  metricNumberOfMessagesPublished(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.topic.metricNumberOfMessagesPublished(props);
  }

  metricNumberOfNotificationsFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.topic.metricNumberOfNotificationsFailed(props);
  }

  metricNumberOfNotificationsFilteredOut(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.topic.metricNumberOfNotificationsFilteredOut(props);
  }
}

/**
 * A publish-subscribe channel (SNS topic) with Switchyard's secure defaults.
 *
 * @example
 * const orderEvents = new PublishSubscribeChannel(this, 'OrderEvents', {
 *   channelName: 'order-events',
 *   fifo: true,
 *   messages: [OrderCreated, OrderApproved],
 * });
 * orderEvents.bindProducer(placeOrder.function); // sets SWITCHYARD_CHANNEL_ORDER_EVENTS
 */
export class PublishSubscribeChannel extends PublishSubscribeChannelBase implements IAlarmSource {
  /**
   * Imports a topic by ARN (e.g. from another app).
   *
   * @example
   * const events = PublishSubscribeChannel.fromChannelArn(this, 'OrderEvents',
   *   'arn:aws:sns:eu-west-1:123456789012:order-events.fifo', { keyArn });
   */
  static fromChannelArn(
    scope: Construct,
    id: string,
    topicArn: string,
    options: ChannelImportOptions = {},
  ): IPublishSubscribeChannel {
    return new ImportedPublishSubscribeChannel(scope, id, topicArn, options);
  }

  /**
   * Imports a topic whose ARN another stack exported with `exportToSsm`. The parameter is resolved at deploy time.
   *
   * @example
   * const events = PublishSubscribeChannel.fromSsmParameter(this, 'OrderEvents',
   *   '/switchyard/SwitchyardFoodDelivery/channels/order-events.fifo');
   */
  static fromSsmParameter(
    scope: Construct,
    id: string,
    parameterName: string,
    options: ChannelSsmImportOptions = {},
  ): IPublishSubscribeChannel {
    const segment = lastSegment(parameterName);
    const topicArn = ssm.StringParameter.valueForStringParameter(scope, parameterName);
    const keyArnParameter = options.keyArnParameterName ?? `${parameterName}${KEY_ARN_PARAMETER_SUFFIX}`;
    const keyArn = ssm.StringParameter.valueForStringParameter(scope, keyArnParameter);
    return new ImportedPublishSubscribeChannel(scope, id, topicArn, {
      channelName:
        options.channelName ?? importedIdentity(scope, segment, options, 'the parameter name').channelName,
      fifo: options.fifo ?? segment.endsWith(FIFO_SUFFIX),
      keyArn,
    });
  }

  readonly topic: sns.Topic;
  readonly channelName: string;
  readonly fifo: boolean;
  readonly messages: readonly MessageDefinition[];
  /** The key the topic is encrypted with. */
  readonly masterKey: kms.IKey;
  /** Largest message the topic accepts, in bytes. */
  readonly maxMessageBytes: number;
  private readonly backboneName?: string;
  private readonly createdAlarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: PublishSubscribeChannelProps) {
    super(scope, id);
    this.fifo = props.fifo ?? false;
    this.channelName = props.channelName;
    this.messages = props.messages ?? [];
    this.backboneName = props.backboneName;
    this.maxMessageBytes = props.maximumMessageSize ?? SNS_DEFAULT_MAX_MESSAGE_BYTES;
    this.validate(props);

    this.masterKey =
      props.masterKey ?? createTopicKey(this, 'Key', `Encrypts the Switchyard channel ${props.channelName}`);
    this.topic = new sns.Topic(this, 'Resource', {
      ...topicProps(this.masterKey),
      topicName: this.fifo ? `${props.channelName}${FIFO_SUFFIX}` : props.channelName,
      fifo: this.fifo || undefined,
      contentBasedDeduplication: this.fifo ? props.contentBasedDeduplication : undefined,
      fifoThroughputScope: this.fifo
        ? (props.fifoThroughputScope ?? sns.FifoThroughputScope.MESSAGE_GROUP)
        : undefined,
    });
    if (this.maxMessageBytes !== SNS_DEFAULT_MAX_MESSAGE_BYTES) {
      (this.topic.node.defaultChild as sns.CfnTopic).maximumMessageSize = this.maxMessageBytes;
    }
    if (this.largeMessages) {
      // Subscriptions are added after construction, so they are checked when the app is validated.
      this.node.addValidation({ validate: () => this.validateLargeMessageSubscriptions() });
    }
  }

  /** Whether the topic opted into messages over 256 KiB. */
  get largeMessages(): boolean {
    return this.maxMessageBytes > SNS_DEFAULT_MAX_MESSAGE_BYTES;
  }

  get alarms(): readonly cloudwatch.Alarm[] {
    return this.createdAlarms;
  }

  /**
   * Alarms of the channel: SNS gave up delivering a message to a subscriber (it went to the
   * subscription's DLQ, whose own alarm fires too, or was lost where a subscription has no DLQ).
   */
  addAlarms(thresholds: AlarmThresholds = {}): readonly cloudwatch.Alarm[] {
    if (this.createdAlarms.length > 0) return this.createdAlarms;
    this.createdAlarms.push(
      anyAboveZeroAlarm(
        this,
        'DeliveryFailedAlarm',
        this.metricNumberOfNotificationsFailed({ statistic: 'Sum', period: thresholds.period }),
        `Switchyard channel ${this.physicalName}: SNS failed to deliver messages to a subscriber. Check the subscribed queues' DLQs ("switchyard dlq list") and their key and queue policies.`,
      ),
    );
    return this.createdAlarms;
  }

  /** The topic name: the channel name, plus `.fifo` for FIFO channels. */
  get physicalName(): string {
    return this.fifo ? `${this.channelName}${FIFO_SUFFIX}` : this.channelName;
  }

  /**
   * Writes the topic ARN (and its key ARN at `<parameterName>/kms-key-arn`) to SSM, for `fromSsmParameter`.
   *
   * @param parameterName default `/switchyard/<backbone>/channels/<topic name>`
   */
  exportToSsm(parameterName?: string): ssm.StringParameter {
    return writeChannelParameters(
      this,
      parameterName ?? defaultParameterName(this, this.backboneName, this.physicalName),
      this.topic.topicArn,
      `ARN of the Switchyard publish-subscribe channel ${this.physicalName}`,
      this.masterKey.keyArn,
    );
  }

  private validate(props: PublishSubscribeChannelProps): void {
    const problems = new Problems(this);
    checkName(problems, 'channelName', props.channelName, MAX_TOPIC_NAME, this.fifo ? FIFO_SUFFIX.length : 0);
    if (!this.fifo && props.contentBasedDeduplication) {
      problems.add(
        'contentBasedDeduplication is true but fifo is false: only FIFO topics deduplicate. Set fifo: true or drop contentBasedDeduplication.',
      );
    }
    if (!this.fifo && props.fifoThroughputScope) {
      problems.add(
        `fifoThroughputScope "${props.fifoThroughputScope}" is set but fifo is false: it applies to FIFO topics only. Set fifo: true or drop it.`,
      );
    }
    const size = props.maximumMessageSize;
    if (
      size !== undefined &&
      !Token.isUnresolved(size) &&
      (!Number.isInteger(size) || size < MIN_MAX_MESSAGE_SIZE || size > LARGE_MAX_MESSAGE_BYTES)
    ) {
      problems.add(
        `maximumMessageSize is ${size}; SNS allows whole numbers of bytes from ${MIN_MAX_MESSAGE_SIZE} to ${LARGE_MAX_MESSAGE_BYTES} (1 MiB). ` +
          `Use ${LARGE_MAX_MESSAGE_BYTES} for large messages, or omit it for the 262,144-byte default.`,
      );
    }
    problems.throwIfAny();
  }

  /** SNS large-message topics admit at most 100 subscriptions, all SQS, Lambda or Firehose. */
  private validateLargeMessageSubscriptions(): string[] {
    const subscriptions = this.node.root.node
      .findAll()
      .filter((c): c is sns.CfnSubscription => c instanceof sns.CfnSubscription)
      .filter((s) => s.topicArn === this.topic.topicArn);
    const errors: string[] = [];
    const header = `${this.node.path}: maximumMessageSize ${this.maxMessageBytes} (over 262,144) opts the topic into SNS large messages`;
    for (const subscription of subscriptions) {
      if (!LARGE_MESSAGE_PROTOCOLS.includes(subscription.protocol)) {
        errors.push(
          `${header}, which admits only SQS, Lambda and Firehose subscriptions; ${subscription.node.path} uses "${subscription.protocol}". ` +
            'Subscribe a queue instead (e.g. a MessageConsumer), or lower maximumMessageSize to 262144.',
        );
      }
    }
    if (subscriptions.length > MAX_LARGE_MESSAGE_SUBSCRIPTIONS) {
      errors.push(
        `${header}, which admits at most ${MAX_LARGE_MESSAGE_SUBSCRIPTIONS} subscriptions; it has ${subscriptions.length}. ` +
          'Split the channel, or lower maximumMessageSize to 262144.',
      );
    }
    return errors;
  }
}

class ImportedPublishSubscribeChannel extends PublishSubscribeChannelBase {
  readonly topic: sns.ITopic;
  readonly channelName: string;
  readonly fifo: boolean;
  readonly messages: readonly MessageDefinition[] = [];
  readonly masterKey?: kms.IKey;

  constructor(scope: Construct, id: string, topicArn: string, options: ChannelImportOptions) {
    super(scope, id);
    this.topic = sns.Topic.fromTopicAttributes(this, 'Resource', { topicArn });
    this.masterKey = options.keyArn ? kms.Key.fromKeyArn(this, 'Key', options.keyArn) : undefined;
    const identity = importedIdentity(this, this.topic.topicName, options, 'the topic ARN');
    this.channelName = identity.channelName;
    this.fifo = options.fifo ?? (identity.fifo || this.topic.fifo);
  }
}
