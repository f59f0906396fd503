/**
 * The delivery part of the food-delivery example, and its HTTP front door:
 *
 * - order-api (Lambda function URL): places orders and asks for delivery quotes, answering 202
 *   with a status reference at once; GET routes answer the status (finish after responding).
 * - delivery-quote-requests (SNS) -> one queue per courier (three couriers, different prices and
 *   think times) -> each replies to the reply-to address: the delivery-quotes gatherer.
 * - the gatherer completes on all replies or after 2 s, and its completing write stages one
 *   DispatchCourier notification (outbox) for courier-dispatch, which records the dispatch.
 */
import * as path from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import {
  HttpCommandEndpoint,
  MessageConsumer,
  PendingRequestsTable,
  PointToPointChannel,
  PublishSubscribeChannel,
  ReplyGatherer,
  type TransactionalOutbox,
} from 'switchyard-aws/cdk';
import { TableVariables } from './domain/channels';
import {
  DeliveryNames,
  DeliveryPriceQuoted,
  DispatchCourier,
  QuoteDeliveryPrice,
} from './domain/delivery-messages';
import { GetTicketEta, KitchenQueryNames, TicketEta } from './domain/kitchen-queries';

const FUNCTIONS = path.join(__dirname, 'functions');
const entry = (name: string) => path.join(FUNCTIONS, `${name}.ts`);

/** The couriers of the example: the slow one is the cheapest, and too late for the 2 s deadline. */
export const COURIERS = [
  { id: 'courier-swift', price: 7.9, delayMs: 100 },
  { id: 'courier-steady', price: 6.5, delayMs: 400 },
  { id: 'courier-slow', price: 4.9, delayMs: 3500 },
] as const;

export interface DeliveryProps {
  readonly ordersTable: dynamodb.ITable;
  readonly orderOutbox: TransactionalOutbox;
  /** The reply channel place-order names in CreateTicket. */
  readonly orderReplies: PointToPointChannel;
  /** The kitchen's tickets, read by kitchen-eta. */
  readonly ticketsTable: dynamodb.ITable;
}

export class Delivery extends Construct {
  readonly quoteRequests: PublishSubscribeChannel;
  readonly courierDispatch: PointToPointChannel;
  readonly gatherer: ReplyGatherer;
  readonly dispatchesTable: dynamodb.Table;
  readonly couriers: MessageConsumer[];
  readonly dispatch: MessageConsumer;
  readonly api: HttpCommandEndpoint;
  readonly kitchenQueries: PointToPointChannel;
  readonly apiReplies: PointToPointChannel;
  readonly pendingRequests: PendingRequestsTable;

  constructor(scope: Construct, id: string, props: DeliveryProps) {
    super(scope, id);
    this.quoteRequests = new PublishSubscribeChannel(this, 'QuoteRequests', {
      channelName: DeliveryNames.QUOTE_REQUESTS,
      messages: [QuoteDeliveryPrice],
    });
    this.courierDispatch = new PointToPointChannel(this, 'CourierDispatch', {
      channelName: DeliveryNames.COURIER_DISPATCH,
      messages: [DispatchCourier],
    });
    this.gatherer = new ReplyGatherer(this, 'Quotes', {
      gathererName: DeliveryNames.GATHERER,
      entry: entry('quote-gatherer'),
      replies: [DeliveryPriceQuoted],
      resultChannels: [this.courierDispatch],
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.couriers = COURIERS.map(
      (courier) =>
        new MessageConsumer(this, `Courier-${courier.id}`, {
          consumerName: courier.id,
          entry: entry('courier'),
          handles: [QuoteDeliveryPrice],
          subscribeTo: [this.quoteRequests],
          timeout: Duration.seconds(10),
          environment: {
            [DeliveryNames.COURIER_ID]: courier.id,
            [DeliveryNames.COURIER_PRICE]: String(courier.price),
            [DeliveryNames.COURIER_DELAY_MS]: String(courier.delayMs),
          },
        }),
    );
    for (const courier of this.couriers) this.gatherer.grantReply(courier.handler);

    this.dispatchesTable = new dynamodb.Table(this, 'Dispatches', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.dispatch = new MessageConsumer(this, 'Dispatch', {
      consumerName: DeliveryNames.COURIER_DISPATCH,
      entry: entry('courier-dispatch'),
      handles: [DispatchCourier],
      source: this.courierDispatch,
      environment: { [DeliveryNames.DISPATCHES_TABLE]: this.dispatchesTable.tableName },
    });
    this.dispatchesTable.grantReadWriteData(this.dispatch.handler);

    this.api = new HttpCommandEndpoint(this, 'OrderApi', {
      entry: entry('order-api'),
      description:
        'HTTP front door: commands answer 202 with a status reference; GET routes answer the status',
      outputName: 'OrderApiUrl',
      environment: {
        [TableVariables.ORDERS]: props.ordersTable.tableName,
        [DeliveryNames.DISPATCHES_TABLE]: this.dispatchesTable.tableName,
        COURIER_COUNT: String(COURIERS.length),
      },
    });
    props.orderOutbox.grantWrite(this.api.function);
    props.ordersTable.grantReadData(this.api.function);
    this.api.function.addEnvironment(props.orderReplies.environmentVariable, props.orderReplies.address);
    this.gatherer.grantOpen(this.api.function);
    this.quoteRequests.bindProducer(this.api.function);
    this.dispatchesTable.grantReadData(this.api.function);

    // Request / asynchronous response with the client side: order-api asks kitchen-eta, waiting
    // up to 2 s on its pending-request record; order-api-replies delivers the replies.
    this.kitchenQueries = new PointToPointChannel(this, 'KitchenQueries', {
      channelName: KitchenQueryNames.QUERIES,
      messages: [GetTicketEta],
    });
    this.apiReplies = new PointToPointChannel(this, 'OrderApiReplies', {
      channelName: KitchenQueryNames.API_REPLIES,
      messages: [TicketEta],
    });
    this.pendingRequests = new PendingRequestsTable(this, 'PendingRequests');
    const kitchenEta = new MessageConsumer(this, 'KitchenEta', {
      consumerName: 'kitchen-eta',
      entry: entry('kitchen-eta'),
      handles: [GetTicketEta],
      source: this.kitchenQueries,
      environment: { [TableVariables.TICKETS]: props.ticketsTable.tableName },
    });
    props.ticketsTable.grantReadData(kitchenEta.handler);
    this.apiReplies.grantSend(kitchenEta.handler);
    const replyRouter = new MessageConsumer(this, 'OrderApiRepliesConsumer', {
      consumerName: KitchenQueryNames.API_REPLIES,
      entry: entry('order-api-replies'),
      handles: [TicketEta],
      source: this.apiReplies,
    });
    this.pendingRequests.bind(replyRouter.handler);
    this.pendingRequests.bind(this.api.function);
    this.kitchenQueries.bindProducer(this.api.function);
    this.api.function.addEnvironment(this.apiReplies.environmentVariable, this.apiReplies.address);
  }
}
