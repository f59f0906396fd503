/** ReplyGatherer, HttpCommandEndpoint and PendingRequestsTable: what they create, grant and refuse. */
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { z } from 'zod';
import { defineCommand, defineReply } from '../../lambdas/core/definition';
import {
  HttpCommandEndpoint,
  nagPacks,
  PendingRequestsTable,
  PointToPointChannel,
  ReplyGatherer,
  ServiceFunction,
} from '../../lib';

const Quote = defineReply({ type: 'Quote', schema: z.object({ price: z.number() }) });
const Winner = defineCommand({ type: 'Winner', schema: z.object({ price: z.number() }) });
const entry = path.join(__dirname, '..', 'fixtures', 'local-cloud', 'record-handler.ts');

function stack(): Stack {
  return new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Styles');
}

describe('ReplyGatherer', () => {
  test('creates the reply queue, the gatherings table with its stream relay and the consumer', () => {
    // GIVEN
    const s = stack();
    const results = new PointToPointChannel(s, 'Results', { channelName: 'winners', messages: [Winner] });
    // WHEN
    const gatherer = new ReplyGatherer(s, 'Quotes', {
      gathererName: 'quotes',
      entry,
      replies: [Quote],
      resultChannels: [results],
    });
    const requester = new ServiceFunction(s, 'Requester', { entry });
    gatherer.grantOpen(requester.function);
    // THEN
    const template = Template.fromStack(s);
    expect(gatherer.replyChannel.channelName).toBe('quotes-replies');
    template.resourceCountIs('AWS::SQS::Queue', 5); // results + replies, each with its DLQ, and the failure queue
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
    });
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 2); // replies queue + gatherings stream
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          SWITCHYARD_GATHERER_TABLE: Match.anyValue(),
          SWITCHYARD_GATHERER_QUEUE: Match.anyValue(),
          SWITCHYARD_CHANNEL_QUOTES_REPLIES: Match.anyValue(),
        }),
      },
    });
    expect(gatherer.replyChannel.messages.map((m) => m.type)).toEqual([
      'Quote',
      'SwitchyardGatheringDeadline',
    ]);
    expect(nagPacks().flatMap((p) => p.validateScope(s).violations)).toEqual([]);
  });

  test('fails at synth naming the construct when it has no replies or no result channel', () => {
    const s = stack();
    expect(
      () => new ReplyGatherer(s, 'Empty', { gathererName: 'g', entry, replies: [], resultChannels: [] }),
    ).toThrow(/Styles\/Empty.*replies is empty.*resultChannels is empty/s);
  });
});

describe('HttpCommandEndpoint', () => {
  test('puts the function behind a function URL with IAM auth by default, with an output', () => {
    const s = stack();
    new HttpCommandEndpoint(s, 'Api', { entry, outputName: 'ApiUrl' });
    const template = Template.fromStack(s);
    template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'AWS_IAM' });
    expect(Object.keys(template.findOutputs('ApiUrl'))).toEqual(['ApiUrl']);
    expect(nagPacks().flatMap((p) => p.validateScope(s).violations)).toEqual([]);
  });

  test('NONE only when asked for', () => {
    const s = stack();
    new HttpCommandEndpoint(s, 'Api', { entry, authType: lambda.FunctionUrlAuthType.NONE });
    Template.fromStack(s).hasResourceProperties('AWS::Lambda::Url', { AuthType: 'NONE' });
  });
});

describe('PendingRequestsTable', () => {
  test('has TTL and binds its name and read/write access', () => {
    const s = stack();
    const table = new PendingRequestsTable(s, 'Pending');
    const fn = new ServiceFunction(s, 'Requester', { entry });
    table.bind(fn.function);
    const template = Template.fromStack(s);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ SWITCHYARD_PENDING_REQUESTS_TABLE: Match.anyValue() }) },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: Match.arrayWith(['dynamodb:PutItem', 'dynamodb:UpdateItem']) }),
        ]),
      },
    });
  });
});
