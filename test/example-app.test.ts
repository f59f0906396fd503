import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { FoodDeliveryStack } from '../example/food-delivery-stack';
import { nagPacks } from '../lib';

describe('FoodDeliveryStack (example system)', () => {
  // GIVEN the example stack, synthesized once with real esbuild bundling of every function
  const stack = new FoodDeliveryStack(new App(), 'SwitchyardFoodDelivery');
  const template = Template.fromStack(stack);

  test('has the FIFO order-events and standard kitchen-events channels', () => {
    template.hasResourceProperties('AWS::SNS::Topic', { FifoTopic: true });
    template.resourceCountIs('AWS::SNS::Topic', 3); // two channels and the on-call topic
  });

  test('hard-codes no physical name, so two copies deploy side by side and a redeploy need not wait 60 s', () => {
    // CloudFormation names them, except FIFO topics, which CDK names <stack>-<id>-<hash>.fifo itself.
    for (const type of ['AWS::SNS::Topic', 'AWS::SQS::Queue']) {
      for (const resource of Object.values(template.findResources(type))) {
        const name = resource.Properties.TopicName ?? resource.Properties.QueueName;
        if (name !== undefined) expect(name).toMatch(/^SwitchyardFoodDelivery-.*\.fifo$/);
      }
    }
    // Two copies of the app in one account: their SSM parameters differ by stack name.
    const second = Template.fromStack(new FoodDeliveryStack(new App(), 'SwitchyardFoodDeliveryStaging'));
    const parameterNames = (t: Template) =>
      Object.values(t.findResources('AWS::SSM::Parameter')).map((p) => p.Properties.Name as string);
    const shared = parameterNames(template).filter((n) => parameterNames(second).includes(n));
    expect(shared).toEqual([]);
    expect(parameterNames(template)).toContain(
      '/switchyard/SwitchyardFoodDelivery/channels/order-events.fifo',
    );
  });

  test('has its consumers, place-order, the order API and the outbox relays, each on nodejs22.x', () => {
    // Eleven SQS mappings (kitchen, order-replies, order-history, notifications, three couriers, the
    // quote gatherer, courier-dispatch, kitchen-eta, order-api-replies) and two stream mappings (the
    // Orders and gatherings relays).
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 13);
    template.resourcePropertiesCountIs('AWS::Lambda::Function', { Runtime: 'nodejs22.x' }, 15);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      FilterPolicy: { 'message-type': ['OrderCreated', 'OrderApproved'] },
      RawMessageDelivery: true,
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      FilterPolicy: { 'message-type': ['TicketAccepted'] },
    });
  });

  test('place-order knows both tables and channels it needs', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          SWITCHYARD_OUTBOX_TABLE: Match.anyValue(),
          SWITCHYARD_CHANNEL_ORDER_EVENTS: Match.anyValue(),
          SWITCHYARD_CHANNEL_KITCHEN_COMMANDS: Match.anyValue(),
          SWITCHYARD_CHANNEL_ORDER_REPLIES: Match.anyValue(),
        }),
      },
    });
  });

  test('relays the Orders outbox from its stream, dropping TTL deletes, with bisect and an OnFailure queue', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: Match.anyValue(),
      StartingPosition: Match.anyValue(),
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
      FilterCriteria: Match.objectLike({ Filters: Match.anyValue() }),
    });
  });

  test('kitchen records processed messages in their own table', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ SWITCHYARD_PROCESSED_MESSAGES_TABLE: Match.anyValue() }) },
    });
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
  });

  test('has eight PITR, encrypted, on-demand tables; Orders streams new and old images', () => {
    // Orders, Tickets, OrderHistory, Notifications, ProcessedMessages, delivery gatherings, dispatches,
    // the order API's pending requests.
    template.resourceCountIs('AWS::DynamoDB::Table', 8);
    template.allResourcesProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
    });
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
    });
  });

  test('outputs the function, table and channel addresses', () => {
    const outputs = Object.keys(template.findOutputs('*'));
    expect(outputs).toEqual(
      expect.arrayContaining([
        'PlaceOrderFunctionName',
        'OrdersTableName',
        'TicketsTableName',
        'OrderHistoryTableName',
        'NotificationsTableName',
        'OrderEventsTopicArn',
        'KitchenEventsTopicArn',
        'KitchenCommandsQueueUrl',
        'OrderRepliesQueueUrl',
        'OrderApiUrl',
      ]),
    );
  });

  test('is cdk-nag clean', () => {
    expect(nagPacks().flatMap((pack) => pack.validateScope(stack).violations)).toEqual([]);
  });
});
