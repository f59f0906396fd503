/** ClaimCheckStore: a secure bucket, a lifecycle computed from the wired queues, least-privilege grants. */
import * as path from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { claimLocationOf } from '../../lambdas/claim-check/location';
import {
  ClaimCheckStore,
  MessageConsumer,
  nagPacks,
  PointToPointChannel,
  PublishSubscribeChannel,
  TransactionalOutbox,
} from '../../lib';

const ENTRY = path.join(__dirname, '..', '..', 'example', 'functions', 'notifications.ts');
const newApp = () => new App({ context: { 'aws:cdk:bundling-stacks': [] } });
/**
 * cdk-nag findings, except those about the bare test functions themselves (runtime, DLQ, tracing,
 * managed policy): their policies' S3 and KMS statements are what these tests check.
 */
const nagViolations = (stack: Stack) =>
  nagPacks()
    .flatMap((pack) => pack.validateScope(stack).violations)
    .map((v) => ({
      rule: v.ruleName,
      paths: v.violatingResources
        .map((r) => `${r.constructPath}${r.locations.length ? ` ${JSON.stringify(r.locations)}` : ''}`)
        .filter((p) => !/\/(PlaceOrder|Writer)\/(Resource|ServiceRole\/Resource)$/.test(p.split(' ')[0]!)),
    }))
    .filter((v) => v.paths.length > 0);

function producer(stack: Stack, id: string): lambda.Function {
  return new lambda.Function(stack, id, {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => {}'),
  });
}

/** Statements of the policies attached to the role of the function whose logical id starts with `prefix`. */
function statementsOfRole(template: Template, rolePrefix: RegExp): Record<string, unknown>[] {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.values(policies)
    .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => rolePrefix.test(r.Ref)))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Record<string, unknown>[]);
}

const s3Statements = (statements: Record<string, unknown>[]) =>
  statements.filter((s) => [s.Action].flat().some((a) => String(a).startsWith('s3:')));

describe('ClaimCheckStore', () => {
  // GIVEN a store shared by a topic (one consumer) and a queue with a 6-day retention
  const stack = new Stack(newApp(), 'Claims');
  const claims = new ClaimCheckStore(stack, 'Claims');
  const orders = new PublishSubscribeChannel(stack, 'Orders', { channelName: 'orders', claimCheck: claims });
  const commands = new PointToPointChannel(stack, 'Commands', {
    channelName: 'commands',
    fifo: true,
    claimCheck: claims,
    retentionPeriod: Duration.days(6),
  });
  const placeOrder = producer(stack, 'PlaceOrder');
  orders.bindProducer(placeOrder);
  commands.bindProducer(placeOrder);
  new MessageConsumer(stack, 'Kitchen', {
    consumerName: 'kitchen',
    entry: ENTRY,
    messageTypes: ['OrderCreated'],
    subscribeTo: [orders],
  });
  new MessageConsumer(stack, 'Courier', {
    consumerName: 'courier',
    entry: ENTRY,
    messageTypes: ['DispatchCourier'],
    source: commands,
  });
  const template = Template.fromStack(stack);

  test('the bucket is encrypted, TLS-only, private and unversioned', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      VersioningConfiguration: Match.absent(),
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
    template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain' });
  });

  test('claims expire one day after the longest time a wired queue and its DLQ can hold a reference', () => {
    // The FIFO channel: 6 days in its queue, then 14 more in its FIFO DLQ, which resets the enqueue
    // time. A claim that expired after 15 days (the DLQ's 14 alone, plus a day) would be gone while
    // the message can still be redriven from the DLQ (days 15 to 20) and fail as claim-missing.
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: [
          {
            Id: 'ExpireClaims',
            Status: 'Enabled',
            ExpirationInDays: 21,
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          },
        ],
      },
    });
    expect(claims.longestRetention.toDays()).toBe(20);
  });

  test('a standard channel: a DLQ redrive on its last day gives the message a fresh queue retention', () => {
    // Sent on day 0, in the standard DLQ until day 14 (its original enqueue time), redriven on day
    // 13.9: SQS enqueues it anew in the consumer's queue, which holds it 4 more days. The claim must
    // still be there until day 18, plus the margin.
    const standardStack = new Stack(newApp(), 'Standard');
    const store = new ClaimCheckStore(standardStack, 'Claims');
    const receipts = new PublishSubscribeChannel(standardStack, 'Receipts', {
      channelName: 'receipts',
      claimCheck: store,
    });
    new MessageConsumer(standardStack, 'Archive', {
      consumerName: 'archive',
      entry: ENTRY,
      messageTypes: ['OrderCreated'],
      subscribeTo: [receipts],
    });
    expect(store.longestRetention.toDays()).toBe(18);
    expect(store.expirationDays).toBe(19);
  });

  test('producers may put, consumers may get, each on its channel prefix only', () => {
    const producerS3 = s3Statements(statementsOfRole(template, /^PlaceOrder/));
    expect(producerS3.map((s) => s.Action)).toEqual(['s3:PutObject', 's3:PutObject']);
    const resources = JSON.stringify(producerS3.map((s) => s.Resource));
    expect(resources).toContain('/orders/*');
    expect(resources).toContain('/commands/*');
    const kitchenS3 = s3Statements(statementsOfRole(template, /^KitchenHandler/));
    expect(kitchenS3.map((s) => s.Action)).toEqual(['s3:GetObject']);
    expect(JSON.stringify(kitchenS3[0]!.Resource)).toContain('/orders/*');
    const courierS3 = s3Statements(statementsOfRole(template, /^CourierHandler/));
    expect(courierS3.map((s) => s.Action)).toEqual(['s3:GetObject']);
    expect(JSON.stringify(courierS3[0]!.Resource)).toContain('/commands/*');
  });

  test('producers learn the claim location of each channel they are bound to', () => {
    const fn = Object.entries(template.findResources('AWS::Lambda::Function')).find(([id]) =>
      id.startsWith('PlaceOrder'),
    )![1];
    const env = fn.Properties.Environment.Variables as Record<string, unknown>;
    expect(env.SWITCHYARD_CHANNEL_ORDERS_CLAIM_CHECK_BUCKET).toEqual({
      Ref: expect.stringMatching(/^ClaimsBucket/),
    });
    expect(env.SWITCHYARD_CHANNEL_ORDERS_CLAIM_CHECK_PREFIX).toBe('orders/');
    expect(env.SWITCHYARD_CHANNEL_COMMANDS_CLAIM_CHECK_PREFIX).toBe('commands/');
    // What the runtime reads (lambdas/claim-check/location.ts) from those variables.
    const deployed = {
      SWITCHYARD_CHANNEL_ORDERS: 'arn:aws:sns:us-east-1:111122223333:orders',
      SWITCHYARD_CHANNEL_ORDERS_CLAIM_CHECK_BUCKET: 'claims-bucket',
      SWITCHYARD_CHANNEL_ORDERS_CLAIM_CHECK_PREFIX: 'orders/',
    };
    expect(claimLocationOf('arn:aws:sns:us-east-1:111122223333:orders', deployed)).toEqual({
      bucket: 'claims-bucket',
      prefix: 'orders/',
    });
    expect(claimLocationOf('arn:aws:sns:us-east-1:111122223333:other', deployed)).toBeUndefined();
  });

  test('cdk-nag finds nothing unacknowledged', () => {
    expect(nagViolations(stack)).toEqual([]);
  });
});

describe('ClaimCheckStore options and misconfiguration', () => {
  test('a customer key gives SSE-KMS with a bucket key and KMS grants to producers', () => {
    const stack = new Stack(newApp(), 'Kms');
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const claims = new ClaimCheckStore(stack, 'Claims', { encryptionKey: key });
    const channel = new PointToPointChannel(stack, 'Docs', { channelName: 'docs', claimCheck: claims });
    channel.bindProducer(producer(stack, 'Writer'));
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          Match.objectLike({
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' },
          }),
        ],
      },
    });
    const actions = statementsOfRole(template, /^WriterServiceRole/).flatMap((s) => [s.Action].flat());
    expect(actions).toEqual(expect.arrayContaining(['kms:GenerateDataKey', 's3:PutObject']));
    expect(nagViolations(stack)).toEqual([]);
  });

  test('an expiration shorter than a wired queue retention fails synth naming the store and the queue', () => {
    const stack = new Stack(newApp(), 'Short');
    const claims = new ClaimCheckStore(stack, 'Claims', { expiration: Duration.days(3) });
    new PointToPointChannel(stack, 'Docs', { channelName: 'docs', claimCheck: claims });
    expect(() => Template.fromStack(stack)).toThrow(
      /Short\/Claims: expiration 3 days is shorter than the retention of Short\/Docs/,
    );
  });

  test('the removal policy follows the switchyard:removalPolicy context', () => {
    const app = new App({
      context: { 'aws:cdk:bundling-stacks': [], 'switchyard:removalPolicy': 'destroy' },
    });
    const stack = new Stack(app, 'Dev');
    new ClaimCheckStore(stack, 'Claims');
    Template.fromStack(stack).hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Delete' });
  });

  test('an outbox relay of a claim-check channel may put claims; the writer only learns the location', () => {
    const stack = new Stack(newApp(), 'Outbox');
    const claims = new ClaimCheckStore(stack, 'Claims');
    const channel = new PublishSubscribeChannel(stack, 'Orders', {
      channelName: 'orders',
      claimCheck: claims,
    });
    const writer = producer(stack, 'Writer');
    const outbox = new TransactionalOutbox(stack, 'Outbox', { channels: [channel] });
    outbox.grantWrite(writer);
    const template = Template.fromStack(stack);
    const relayS3 = s3Statements(statementsOfRole(template, /^OutboxRelay/));
    expect(relayS3.map((s) => s.Action)).toEqual(['s3:PutObject']);
    expect(s3Statements(statementsOfRole(template, /^WriterServiceRole/))).toEqual([]);
    const writerEnv = Object.entries(template.findResources('AWS::Lambda::Function')).find(([id]) =>
      id.startsWith('Writer'),
    )![1].Properties.Environment.Variables as Record<string, unknown>;
    expect(writerEnv.SWITCHYARD_CHANNEL_ORDERS_CLAIM_CHECK_PREFIX).toBe('orders/');
    expect(nagViolations(stack)).toEqual([]);
  });
});
