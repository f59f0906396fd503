/**
 * The food-delivery example backbone: orders, kitchen, notifications and an order-history view,
 * wired with Switchyard channels and consumers. This is what `cdk deploy` deploys.
 */
import * as path from 'node:path';
import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import {
  BackboneMonitoring,
  createTopicKey,
  MessageConsumer,
  PointToPointChannel,
  ProcessedMessagesTable,
  PublishSubscribeChannel,
  ServiceFunction,
  TransactionalOutbox,
} from 'switchyard-aws/cdk';
import { Delivery } from './delivery';
import { Channels, ConsumerNames, TableVariables } from './domain/channels';
import { CreateTicket, OrderApproved, OrderCreated, TicketAccepted, TicketCreated } from './domain/messages';

const FUNCTIONS = path.join(__dirname, 'functions');
const entry = (name: string) => path.join(FUNCTIONS, `${name}.ts`);

export class FoodDeliveryStack extends Stack {
  readonly orderEvents: PublishSubscribeChannel;
  readonly kitchenEvents: PublishSubscribeChannel;
  readonly kitchenCommands: PointToPointChannel;
  readonly orderReplies: PointToPointChannel;
  readonly ordersTable: dynamodb.Table;
  readonly ticketsTable: dynamodb.Table;
  readonly orderHistoryTable: dynamodb.Table;
  readonly notificationsTable: dynamodb.Table;
  readonly orderOutbox: TransactionalOutbox;
  readonly processedMessages: ProcessedMessagesTable;
  readonly placeOrder: ServiceFunction;
  readonly kitchen: MessageConsumer;
  readonly orderRepliesConsumer: MessageConsumer;
  readonly orderHistory: MessageConsumer;
  readonly notifications: MessageConsumer;
  readonly delivery: Delivery;

  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, props);

    this.orderEvents = new PublishSubscribeChannel(this, 'OrderEvents', {
      channelName: Channels.ORDER_EVENTS,
      fifo: true,
      messages: [OrderCreated, OrderApproved],
    });
    this.kitchenEvents = new PublishSubscribeChannel(this, 'KitchenEvents', {
      channelName: Channels.KITCHEN_EVENTS,
      messages: [TicketAccepted],
    });
    this.kitchenCommands = new PointToPointChannel(this, 'KitchenCommands', {
      channelName: Channels.KITCHEN_COMMANDS,
      messages: [CreateTicket],
    });
    this.orderReplies = new PointToPointChannel(this, 'OrderReplies', {
      channelName: Channels.ORDER_REPLIES,
      messages: [TicketCreated],
    });
    for (const channel of [this.orderEvents, this.kitchenEvents, this.kitchenCommands, this.orderReplies]) {
      channel.exportToSsm();
    }

    // The outbox relay reads the Orders stream later; the sort key leaves room for outbox items.
    this.ordersTable = this.table('OrdersTable', true);
    this.ticketsTable = this.table('TicketsTable');
    this.orderHistoryTable = this.table('OrderHistoryTable');
    this.notificationsTable = this.table('NotificationsTable');

    this.placeOrder = new ServiceFunction(this, 'PlaceOrder', {
      entry: entry('place-order'),
      description: 'Places an order: stores it PENDING with OrderCreated and CreateTicket in its outbox',
    });
    // The order service writes state and messages in one item write; the relay tails the stream.
    this.orderOutbox = new TransactionalOutbox(this, 'OrderOutbox', {
      table: this.ordersTable,
      relay: 'log-tailing',
      mode: 'in-item',
      channels: [this.orderEvents, this.kitchenCommands],
    });
    this.orderOutbox.grantWrite(this.placeOrder.function);
    // Duplicate detection records of the kitchen (transactional mode).
    this.processedMessages = new ProcessedMessagesTable(this, 'ProcessedMessages', {
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // place-order only names order-replies as the reply-to address; it never sends there.
    this.placeOrder.function.addEnvironment(this.orderReplies.environmentVariable, this.orderReplies.address);

    this.kitchen = new MessageConsumer(this, 'Kitchen', {
      consumerName: ConsumerNames.KITCHEN,
      entry: entry('kitchen'),
      handles: [CreateTicket],
      source: this.kitchenCommands,
      environment: { [TableVariables.TICKETS]: this.ticketsTable.tableName },
    });
    this.ticketsTable.grantReadWriteData(this.kitchen.handler);
    this.processedMessages.bindTo(this.kitchen.handler);
    this.kitchenEvents.bindProducer(this.kitchen.handler);
    // Replies go to the address in the command's reply-to header, which is order-replies here.
    this.orderReplies.grantSend(this.kitchen.handler);

    this.orderRepliesConsumer = new MessageConsumer(this, 'OrderRepliesConsumer', {
      consumerName: ConsumerNames.ORDER_REPLIES,
      entry: entry('order-replies'),
      handles: [TicketCreated],
      source: this.orderReplies,
      environment: { [TableVariables.ORDERS]: this.ordersTable.tableName },
    });
    this.orderOutbox.grantWrite(this.orderRepliesConsumer.handler);

    this.orderHistory = new MessageConsumer(this, 'OrderHistory', {
      consumerName: ConsumerNames.ORDER_HISTORY,
      entry: entry('order-history'),
      handles: [OrderCreated, OrderApproved],
      subscribeTo: [this.orderEvents],
      ordered: true,
      environment: { [TableVariables.ORDER_HISTORY]: this.orderHistoryTable.tableName },
    });
    this.orderHistoryTable.grantReadWriteData(this.orderHistory.handler);

    this.notifications = new MessageConsumer(this, 'Notifications', {
      consumerName: ConsumerNames.NOTIFICATIONS,
      entry: entry('notifications'),
      handles: [TicketAccepted],
      subscribeTo: [this.kitchenEvents],
      environment: { [TableVariables.NOTIFICATIONS]: this.notificationsTable.tableName },
    });
    this.notificationsTable.grantReadWriteData(this.notifications.handler);

    // Delivery quotes (publish / async responses), dispatch (notification) and the HTTP front door.
    this.delivery = new Delivery(this, 'Delivery', {
      ordersTable: this.ordersTable,
      orderOutbox: this.orderOutbox,
      orderReplies: this.orderReplies,
      ticketsTable: this.ticketsTable,
    });

    // Alarms of every channel, consumer and outbox notify the on-call topic; one dashboard shows them.
    const onCall = new sns.Topic(this, 'OnCallTopic', {
      masterKey: createTopicKey(this, 'OnCallKey', 'Encrypts the on-call alarm topic'),
      enforceSSL: true,
    });
    new BackboneMonitoring(this, 'Monitoring', { alarmTopic: onCall });

    new CfnOutput(this, 'PlaceOrderFunctionName', { value: this.placeOrder.function.functionName });
    new CfnOutput(this, 'OrdersTableName', { value: this.ordersTable.tableName });
    new CfnOutput(this, 'TicketsTableName', { value: this.ticketsTable.tableName });
    new CfnOutput(this, 'OrderHistoryTableName', { value: this.orderHistoryTable.tableName });
    new CfnOutput(this, 'NotificationsTableName', { value: this.notificationsTable.tableName });
    new CfnOutput(this, 'OrderEventsTopicArn', { value: this.orderEvents.topic.topicArn });
    new CfnOutput(this, 'KitchenEventsTopicArn', { value: this.kitchenEvents.topic.topicArn });
    new CfnOutput(this, 'KitchenCommandsQueueUrl', { value: this.kitchenCommands.queue.queueUrl });
    new CfnOutput(this, 'OrderRepliesQueueUrl', { value: this.orderReplies.queue.queueUrl });
  }

  /** Orders has a sort key and a stream (the outbox relay reads it); the others a partition key only. */
  private table(id: string, withStream = false): dynamodb.Table {
    return new dynamodb.Table(this, id, {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: withStream ? { name: 'sk', type: dynamodb.AttributeType.STRING } : undefined,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      stream: withStream ? dynamodb.StreamViewType.NEW_AND_OLD_IMAGES : undefined,
      // The outbox relay's attempt counters in Orders expire through this TTL.
      timeToLiveAttribute: withStream ? 'expiresAt' : undefined,
      // An example system: tearing it down should leave nothing behind.
      removalPolicy: RemovalPolicy.DESTROY,
    });
  }
}
