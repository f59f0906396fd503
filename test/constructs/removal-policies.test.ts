/** KMS keys and log groups: retained by default, destroyable for a dev stage by prop or context. */
import * as path from 'node:path';
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import {
  MessageConsumer,
  PublishSubscribeChannel,
  REMOVAL_POLICY_CONTEXT,
  TransactionalOutbox,
} from '../../lib';

const ENTRY = path.join(__dirname, '..', '..', 'example', 'functions', 'notifications.ts');

function backbone(app: App, props: { removalPolicy?: RemovalPolicy } = {}): Template {
  const stack = new Stack(app, 'Backbone');
  const events = new PublishSubscribeChannel(stack, 'Events', { channelName: 'events', ...props });
  new MessageConsumer(stack, 'History', {
    consumerName: 'history',
    entry: ENTRY,
    messageTypes: ['OrderCreated'],
    subscribeTo: [events],
    ...props,
  });
  new TransactionalOutbox(stack, 'Outbox', { channels: [events], ...props });
  return Template.fromStack(stack);
}

const policies = (template: Template, type: string) =>
  Object.values(template.findResources(type)).map((r) => [r.DeletionPolicy, r.UpdateReplacePolicy]);
const bundlingOff = { 'aws:cdk:bundling-stacks': [] };

describe('removal policies of keys and log groups', () => {
  test('retained by default', () => {
    const template = backbone(new App({ context: bundlingOff }));
    expect(policies(template, 'AWS::KMS::Key')).toEqual([['Retain', 'Retain']]);
    expect(policies(template, 'AWS::Logs::LogGroup')).toEqual([
      ['Retain', 'Retain'],
      ['Retain', 'Retain'],
    ]);
  });

  test('destroyed when the construct says so', () => {
    const template = backbone(new App({ context: bundlingOff }), { removalPolicy: RemovalPolicy.DESTROY });
    expect(policies(template, 'AWS::KMS::Key')).toEqual([['Delete', 'Delete']]);
    template.hasResourceProperties('AWS::KMS::Key', { PendingWindowInDays: 7 });
    expect(new Set(policies(template, 'AWS::Logs::LogGroup').flat())).toEqual(new Set(['Delete']));
  });

  test('destroyed for a whole dev stage through the switchyard:removalPolicy context', () => {
    const template = backbone(new App({ context: { ...bundlingOff, [REMOVAL_POLICY_CONTEXT]: 'destroy' } }));
    expect(new Set(policies(template, 'AWS::KMS::Key').flat())).toEqual(new Set(['Delete']));
    expect(new Set(policies(template, 'AWS::Logs::LogGroup').flat())).toEqual(new Set(['Delete']));
  });

  test('fails with the allowed values on an unknown context value', () => {
    expect(() =>
      backbone(new App({ context: { ...bundlingOff, [REMOVAL_POLICY_CONTEXT]: 'purge' } })),
    ).toThrow(
      /Backbone\/Events: context switchyard:removalPolicy is "purge"; use "retain" \(the default\) or "destroy"/,
    );
  });
});
