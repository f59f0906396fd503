/**
 * The chaos run's SDK-level fault injector against the real emulators: the real exception classes
 * below the SDK's retry strategy, connection resets before and after the request is applied,
 * partial batch failures, transaction conflicts, and the worker hooks (handler exception, worker
 * killed after its side effect). A scripted random stream picks each fault.
 */

import { join } from 'node:path';
import {
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { CreateTopicCommand, PublishCommand, SNSClient, ThrottledException } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  KmsThrottled,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { FaultCounters } from '../local/faults/counters';
import { FaultInjector } from '../local/faults/injector';
import { FaultKinds, Tallies } from '../local/faults/kinds';
import { DEFAULT_FAULT_RATES, type FaultRates } from '../local/faults/rates';
import { addFaultMiddleware } from '../local/faults/sdk-faults';
import { FunctionHost } from '../local/runtime/function-host';
import { uniqueName } from './support/emulators';

/** Draws these numbers first, then 0.99 (no fault) forever. */
function scripted(...draws: number[]): () => number {
  return () => draws.shift() ?? 0.99;
}

const rates = (overrides: Partial<FaultRates> = {}): FaultRates => ({
  ...DEFAULT_FAULT_RATES,
  sdkCall: 0.5,
  transactionConflict: 0,
  partialBatch: 0,
  ...overrides,
});

/** Family 0 = throttles, 1 = 5xx, 2 = connection resets (SQS SendMessage has all three). */
const FAULT = 0;

/** Created with a client of its own, so the scripted draws go to the calls under test. */
async function queue(): Promise<string> {
  const { QueueUrl } = await new SQSClient({}).send(
    new CreateQueueCommand({ QueueName: uniqueName('chaos') }),
  );
  return QueueUrl as string;
}

async function receiveAll(queueUrl: string): Promise<string[]> {
  const { Messages = [] } = await new SQSClient({}).send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
  );
  return Messages.map((m) => m.Body ?? '');
}

describe('SDK fault injector', () => {
  test('a connection reset after the request was applied makes the SDK retry it: the message is sent twice', async () => {
    // GIVEN a client whose first attempt is applied and then loses its response
    const sqs = new SQSClient({});
    const counters = new FaultCounters();
    addFaultMiddleware(sqs, { random: scripted(FAULT, 0.9, 0.9), counters, rates: rates() });
    const queueUrl = await queue();
    // WHEN one SendMessage is made
    const { $metadata } = await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'once' }));
    // THEN the SDK's own retry strategy sent it again, below which the fault sat: two copies arrived
    expect($metadata.attempts).toBe(2);
    expect(await receiveAll(queueUrl)).toEqual(['once', 'once']);
    expect(counters.get(FaultKinds.RESET_AFTER_APPLIED)).toBe(1);
    expect(counters.get(Tallies.SDK_CALLS)).toBe(2);
  });

  test('a connection reset before the request was sent is retried by the SDK and applied once', async () => {
    const sqs = new SQSClient({});
    const counters = new FaultCounters();
    addFaultMiddleware(sqs, { random: scripted(FAULT, 0.9, 0.1), counters, rates: rates() });
    const queueUrl = await queue();
    const { $metadata } = await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'once' }));
    expect($metadata.attempts).toBe(2);
    expect(await receiveAll(queueUrl)).toEqual(['once']);
    expect(counters.get(FaultKinds.RESET_BEFORE_APPLIED)).toBe(1);
  });

  test('SNS ThrottledException is the real class with $fault client, and the SDK retries it as a throttle', async () => {
    const sns = new SNSClient({});
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: uniqueName('chaos') }));
    const counters = new FaultCounters();
    // Every attempt throttled: the SDK gives up after its 3 attempts and surfaces the real class.
    const always = () => 0;
    addFaultMiddleware(sns, { random: always, counters, rates: rates({ sdkCall: 1 }) });
    const error = await sns.send(new PublishCommand({ TopicArn, Message: 'x' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ThrottledException);
    expect((error as ThrottledException).$fault).toBe('client');
    expect((error as ThrottledException).$metadata.attempts).toBe(3);
    expect(counters.get(FaultKinds.SNS_THROTTLED)).toBe(3);
  });

  test('SQS KmsThrottled is the real class with $fault client, which the SDK does not retry: the caller must', async () => {
    const sqs = new SQSClient({});
    const counters = new FaultCounters();
    // family 0 (throttles), kind 1 (KmsThrottled)
    addFaultMiddleware(sqs, { random: scripted(FAULT, 0.1, 0.9), counters, rates: rates() });
    const queueUrl = await queue();
    const error = await sqs
      .send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'x' }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KmsThrottled);
    expect((error as KmsThrottled).$fault).toBe('client');
    expect((error as KmsThrottled).$metadata.attempts).toBe(1);
    expect(await receiveAll(queueUrl)).toEqual([]);
  });

  test('HTTP 500 InternalError on SQS is the SDK base exception with $fault server, retried by the SDK', async () => {
    const sqs = new SQSClient({});
    const counters = new FaultCounters();
    addFaultMiddleware(sqs, { random: scripted(FAULT, 0.5, 0.1), counters, rates: rates() });
    const queueUrl = await queue();
    const { $metadata } = await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'x' }));
    expect($metadata.attempts).toBe(2);
    expect(counters.get(FaultKinds.INTERNAL_ERROR)).toBe(1);
  });

  test('TransactWriteItems cancelled with a TransactionConflict reason per item; nothing written', async () => {
    const dynamodb = new DynamoDBClient({});
    const table = uniqueName('chaos');
    await dynamodb.send(
      new CreateTableCommand({
        TableName: table,
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    const counters = new FaultCounters();
    addFaultMiddleware(dynamodb, {
      random: scripted(0),
      counters,
      rates: rates({ transactionConflict: 0.5 }),
    });
    const error = await dynamodb
      .send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: table, Item: { pk: { S: 'a' } } } },
            { Put: { TableName: table, Item: { pk: { S: 'b' } } } },
          ],
        }),
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransactionCanceledException);
    expect((error as TransactionCanceledException).CancellationReasons?.map((r) => r.Code)).toEqual([
      'TransactionConflict',
      'None',
    ]);
    const { Item } = await new DynamoDBClient({}).send(
      new GetItemCommand({ TableName: table, Key: { pk: { S: 'a' } } }),
    );
    expect(Item).toBeUndefined();
  });

  test('a partial SendMessageBatch failure reports the dropped entries in Failed; only the others arrive', async () => {
    const sqs = new SQSClient({});
    const counters = new FaultCounters();
    addFaultMiddleware(sqs, {
      random: scripted(0, 0, 0.9),
      counters,
      rates: rates({ partialBatch: 0.5 }),
    });
    const queueUrl = await queue();
    const entries = ['0', '1', '2', '3'].map((id) => ({ Id: id, MessageBody: `m${id}` }));
    const response = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
    const failed = (response.Failed ?? []).map((f) => [f.Id, f.Code, f.SenderFault]);
    expect(failed).toEqual([['3', 'InternalError', false]]);
    expect((response.Successful ?? []).map((s) => s.Id).sort()).toEqual(['0', '1', '2']);
    expect((await receiveAll(queueUrl)).sort()).toEqual(['m0', 'm1', 'm2']);
    expect(counters.get(FaultKinds.PARTIAL_BATCH_FAILURE)).toBe(1);
  });
});

describe('worker hooks', () => {
  const FIXTURES = join(__dirname, 'fixtures', 'functions');
  const hosts: FunctionHost[] = [];
  afterAll(async () => {
    await Promise.all(hosts.map((h) => h.stop()));
  });

  function hostWith(
    faultRates: FaultRates,
    injector = new FaultInjector({ seed: 1, projectDir: process.cwd(), rates: faultRates }),
  ) {
    const hooks = injector.hooks(() => false, 5);
    const spec = {
      name: 'chaos-sender',
      logicalId: 'Sender',
      codeDir: FIXTURES,
      handler: 'sqs-sender.handler',
      environment: {},
      timeoutSeconds: 5,
    };
    const host = new FunctionHost(spec, {
      preload: hooks.workerPreload({ ...spec, arn: 'arn', stackName: 'S' }),
    });
    hosts.push(host);
    return { host, injector };
  }

  test('a worker killed right after its write: the invocation fails, the effect stays', async () => {
    const queueUrl = await queue();
    const none = {
      sdkCall: 0,
      transactionConflict: 0,
      partialBatch: 0,
      handlerException: 0,
      functionTimeout: 0,
      relayKill: 0,
    };
    const { host, injector } = hostWith({ ...none, workerKill: 1 });
    const result = await host.invoke({ queueUrl });
    expect(result.ok).toBe(false);
    expect(result.error?.errorType).toBe('Runtime.ExitError');
    expect(await receiveAll(queueUrl)).toEqual(['effect']);
    expect(injector.counters.get(FaultKinds.WORKER_KILLED)).toBe(1);
  });

  test('an injected handler exception fails the invocation with InjectedHandlerError', async () => {
    const queueUrl = await queue();
    const none = {
      sdkCall: 0,
      transactionConflict: 0,
      partialBatch: 0,
      workerKill: 0,
      functionTimeout: 0,
      relayKill: 0,
    };
    const { host, injector } = hostWith({ ...none, handlerException: 1 });
    const result = await host.invoke({ queueUrl });
    expect(result.ok).toBe(false);
    expect(result.error?.errorType).toBe('InjectedHandlerError');
    expect(injector.counters.get(FaultKinds.HANDLER_EXCEPTION)).toBe(1);
    expect(injector.counters.get(Tallies.INVOCATIONS)).toBe(1);
  });
});
