import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { uniqueName } from './support/emulators';

describe('embedded emulators', () => {
  it('reaches SQS through AWS_ENDPOINT_URL_SQS', async () => {
    const sqs = new SQSClient({});
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('probe') }));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'hello' }));
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }));
    expect(received.Messages?.[0]?.Body).toBe('hello');
  });

  it('reaches DynamoDB Local through AWS_ENDPOINT_URL_DYNAMODB', async () => {
    const ddb = new DynamoDBClient({});
    const TableName = uniqueName('probe');
    await ddb.send(
      new CreateTableCommand({
        TableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      }),
    );
    // DescribeTable, not ListTables: every suite shares one DynamoDB Local (-sharedDb), and ListTables
    // answers 100 names a page.
    const described = await ddb.send(new DescribeTableCommand({ TableName }));
    expect(described.Table?.TableName).toBe(TableName);
  });
});
