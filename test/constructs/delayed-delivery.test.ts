import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as z from 'zod';
import { defineReply } from '../../lambdas';
import {
  BackboneMonitoring,
  DelayedDelivery,
  nagPacks,
  PointToPointChannel,
  PublishSubscribeChannel,
  ReplyGatherer,
  ServiceFunction,
} from '../../lib';

const Quote = defineReply({ type: 'Quoted', schema: z.object({ price: z.number() }) });

const ENTRY = path.join(__dirname, '..', '..', 'example', 'functions', 'notifications.ts');
// Construct tests check wiring, not bundles: skip esbuild.
const newApp = () => new App({ context: { 'aws:cdk:bundling-stacks': [] } });

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

function backbone() {
  const stack = new Stack(newApp(), 'Delayed', { env: { account: '123456789012', region: 'eu-west-1' } });
  const reminders = new PointToPointChannel(stack, 'Reminders', { channelName: 'reminders', fifo: true });
  const events = new PublishSubscribeChannel(stack, 'Events', { channelName: 'events' });
  const unrelated = new PointToPointChannel(stack, 'Unrelated', { channelName: 'unrelated' });
  const producer = new ServiceFunction(stack, 'Producer', { entry: ENTRY });
  const delayed = new DelayedDelivery(stack, 'DelayedDelivery', { channels: [reminders, events] });
  delayed.grantSchedule(producer.function);
  new BackboneMonitoring(stack, 'Monitoring');
  return { stack, reminders, events, unrelated, producer, delayed };
}

function statementsOfRole(template: Template, roleLogicalIdPart: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.values(policies)
    .filter((p) =>
      JSON.stringify((p as { Properties: { Roles: unknown } }).Properties.Roles).includes(roleLogicalIdPart),
    )
    .flatMap(
      (p) =>
        (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument
          .Statement,
    );
}

describe('DelayedDelivery', () => {
  // GIVEN a FIFO queue, a topic and a queue delayed messages never go to
  const { stack, delayed, unrelated } = backbone();
  const template = Template.fromStack(stack);
  const roleId = stack.getLogicalId(delayed.role.node.defaultChild as iam.CfnRole);

  test('creates one schedule group and a Scheduler role trusted by scheduler.amazonaws.com of this account only', () => {
    template.resourceCountIs('AWS::Scheduler::ScheduleGroup', 1);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: 'scheduler.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
          },
        ],
      },
    });
  });

  test('the Scheduler role may send to the given channels (keys included) and the DLQ, nothing else', () => {
    const statements = statementsOfRole(template, roleId);
    const actions = statements.flatMap((s) => [s.Action].flat());
    expect(actions).toEqual(
      expect.arrayContaining(['sqs:SendMessage', 'sns:Publish', 'kms:GenerateDataKey', 'kms:Decrypt']),
    );
    expect(actions.filter((a) => a.includes('*'))).toEqual([]);
    const resources = JSON.stringify(statements.map((s) => s.Resource));
    expect(resources).not.toContain(stack.getLogicalId(unrelated.queue.node.defaultChild as never));
    expect(resources).toContain(stack.getLogicalId(delayed.deadLetterQueue.node.defaultChild as never));
    expect(statements.every((s) => s.Resource !== '*')).toBe(true);
  });

  test('the producer may create schedules in this group and pass this role only', () => {
    const statements = statementsOfRole(template, 'ProducerServiceRole');
    const create = statements.find((s) => [s.Action].flat().includes('scheduler:CreateSchedule'));
    expect(JSON.stringify(create?.Resource)).toContain(':schedule/');
    expect(JSON.stringify(create?.Resource)).toContain(stack.getLogicalId(delayed.scheduleGroup));
    const pass = statements.find((s) => [s.Action].flat().includes('iam:PassRole'));
    expect(pass?.Resource).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
  });

  test('tells the producer function the group, role and DLQ', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          SWITCHYARD_SCHEDULER_GROUP: { Ref: stack.getLogicalId(delayed.scheduleGroup) },
          SWITCHYARD_SCHEDULER_ROLE_ARN: { 'Fn::GetAtt': [roleId, 'Arn'] },
          SWITCHYARD_SCHEDULER_DLQ_ARN: {
            'Fn::GetAtt': [stack.getLogicalId(delayed.deadLetterQueue.node.defaultChild as never), 'Arn'],
          },
        }),
      },
    });
  });

  test('the DLQ of failed deliveries is encrypted, TLS-only, kept 14 days and alarmed', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1_209_600,
    });
    expect(delayed.alarms).toHaveLength(1);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: Match.stringLikeRegexp('delayed delivery .*could not deliver'),
      Threshold: 0,
    });
  });

  test('is cdk-nag clean', () => {
    expect(nagPacks().flatMap((pack) => pack.validateScope(stack).violations)).toEqual([]);
  });

  test('a ReplyGatherer given it lets its requesters schedule deadlines beyond 15 minutes to its reply channel', () => {
    const other = new Stack(newApp(), 'Gather');
    const results = new PointToPointChannel(other, 'Results', { channelName: 'results' });
    const later = new DelayedDelivery(other, 'Later', { channels: [results] });
    const gatherer = new ReplyGatherer(other, 'Quotes', {
      gathererName: 'quotes',
      entry: ENTRY,
      replies: [Quote],
      resultChannels: [results],
      delayedDelivery: later,
    });
    const requester = new ServiceFunction(other, 'Requester', { entry: ENTRY });
    gatherer.grantOpen(requester.function);
    expect(later.channels).toContain(gatherer.replyChannel);
    const t = Template.fromStack(other);
    const requesterActions = statementsOfRole(t, 'RequesterServiceRole').flatMap((st) => [st.Action].flat());
    expect(requesterActions).toEqual(expect.arrayContaining(['scheduler:CreateSchedule', 'iam:PassRole']));
    const roleId = other.getLogicalId(later.role.node.defaultChild as iam.CfnRole);
    const roleResources = JSON.stringify(statementsOfRole(t, roleId).map((st) => st.Resource));
    expect(roleResources).toContain(
      other.getLogicalId(gatherer.replyChannel.queue.node.defaultChild as never),
    );
    expect(nagPacks().flatMap((pack) => pack.validateScope(other).violations)).toEqual([]);
  });

  test('fails at synth naming the construct for no channels or a bad group name', () => {
    const other = new Stack(newApp(), 'Bad');
    expect(
      () => new DelayedDelivery(other, 'Later', { channels: [], scheduleGroupName: 'no spaces' }),
    ).toThrow(/Bad\/Later: 2 invalid settings:[\s\S]*channels is empty[\s\S]*scheduleGroupName "no spaces"/);
  });
});
