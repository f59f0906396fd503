/**
 * ReplyGatherer: the infrastructure of publish / asynchronous responses. A reply channel (standard
 * queue: the deadline is a delayed message, which FIFO queues do not allow per message), a
 * gatherings table whose stream feeds an outbox relay (the single result message is staged in the
 * completing write), and the gatherer consumer that handles replies and deadlines.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import type { MessageDefinition } from '../lambdas/core/definition';
import { GathererEnvironment, GatheringDeadline } from '../lambdas/styles/gatherer';
import type { IChannel } from './channel';
import type { DelayedDelivery } from './delayed-delivery';
import { MessageConsumer } from './message-consumer';
import { PointToPointChannel } from './point-to-point-channel';
import { TransactionalOutbox } from './transactional-outbox';
import { Problems } from './validation';

export interface ReplyGathererProps {
  /** Names the gatherer: its consumer, and its reply channel `<name>-replies`. */
  readonly gathererName: string;
  /** Entry of the gatherer consumer (it registers `createGatherer(...).handlers`). */
  readonly entry: string;
  /** The reply types it gathers. */
  readonly replies: MessageDefinition[];
  /** Channels the result message may go to (routed through the gatherings outbox). */
  readonly resultChannels: IChannel[];
  /**
   * What happens to the gatherings table when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Lets gatherings have deadlines beyond SQS's 15 minutes (up to a year): the deadline message then
   * goes through this backbone's EventBridge Scheduler group.
   * @default - deadlines of at most 15 minutes
   */
  readonly delayedDelivery?: DelayedDelivery;
}

/**
 * @example
 * const quotes = new ReplyGatherer(this, 'DeliveryQuotes', {
 *   gathererName: 'delivery-quotes', entry: 'functions/quote-gatherer.ts',
 *   replies: [DeliveryPriceQuoted], resultChannels: [courierDispatch],
 * });
 * quotes.grantOpen(requestQuotes.function); // table, deadline queue and the reply-to address
 */
export class ReplyGatherer extends Construct {
  readonly replyChannel: PointToPointChannel;
  readonly table: dynamodb.Table;
  readonly outbox: TransactionalOutbox;
  readonly consumer: MessageConsumer;
  readonly gathererName: string;
  private readonly delayedDelivery?: DelayedDelivery;

  constructor(scope: Construct, id: string, props: ReplyGathererProps) {
    super(scope, id);
    this.gathererName = props.gathererName;
    const problems = new Problems(this);
    if (props.replies.length === 0)
      problems.add('replies is empty: give the reply types the gatherer collects.');
    if (props.resultChannels.length === 0)
      problems.add('resultChannels is empty: the gatherer needs a channel for its result message.');
    problems.throwIfAny();

    this.replyChannel = new PointToPointChannel(this, 'ReplyChannel', {
      channelName: `${props.gathererName}-replies`,
      messages: [...props.replies, GatheringDeadline],
    });
    this.delayedDelivery = props.delayedDelivery;
    this.delayedDelivery?.addChannel(this.replyChannel);
    this.table = new dynamodb.Table(this, 'Gatherings', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
      // The outbox keeps its attempt counters here and expires them through this attribute.
      timeToLiveAttribute: 'expiresAt',
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.outbox = new TransactionalOutbox(this, 'Outbox', {
      table: this.table,
      relay: 'log-tailing',
      mode: 'in-item',
      channels: props.resultChannels,
    });
    this.consumer = new MessageConsumer(this, 'Consumer', {
      consumerName: props.gathererName,
      entry: props.entry,
      handles: [...props.replies, GatheringDeadline],
      source: this.replyChannel,
      environment: {
        [GathererEnvironment.TABLE]: this.table.tableName,
        [GathererEnvironment.QUEUE]: this.replyChannel.address,
      },
    });
    this.outbox.grantWrite(this.consumer.handler);
  }

  /**
   * Lets a requester open gatherings: read/write on the table, send on the reply channel (the
   * deadline message), and the variables `createGatherer` reads. Also sets the reply channel's
   * `SWITCHYARD_CHANNEL_<NAME>` so the requester can name it as reply-to. With `delayedDelivery`, also
   * its `grantSchedule` (deadlines beyond 15 minutes).
   */
  grantOpen(fn: lambda.Function): iam.Grant {
    fn.addEnvironment(GathererEnvironment.TABLE, this.table.tableName);
    fn.addEnvironment(GathererEnvironment.QUEUE, this.replyChannel.address);
    fn.addEnvironment(this.replyChannel.environmentVariable, this.replyChannel.address);
    this.replyChannel.grantSend(fn);
    this.delayedDelivery?.grantSchedule(fn);
    return this.table.grantReadWriteData(fn);
  }

  /** Lets a responder send its replies to the reply channel (`sqs:SendMessage`...). */
  grantReply(grantee: iam.IGrantable): iam.Grant {
    return this.replyChannel.grantSend(grantee);
  }
}
