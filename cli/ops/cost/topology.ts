/**
 * What the cost model needs from a synthesized app: channels (topics, and queues producers send to),
 * consumers (SQS event source mappings), outboxes (stream relays and their writers), and the count of
 * fixed-price resources. Read from the CloudFormation templates, so it works for any app built with
 * the constructs.
 */
import type { CfnResource, CfnTemplate } from '../../../local/template/types';

export interface ChannelNode {
  readonly id: string;
  readonly kind: 'topic' | 'queue';
  readonly fifo: boolean;
  /** Queues subscribed to the topic. */
  readonly subscribers: number;
  /** Set when producers offload payloads over the channel's limit to a claim-check bucket. */
  readonly claimCheck?: {
    /** The channel's size limit: larger payloads go to S3. */
    readonly maxMessageBytes: number;
    /** How long a claim stays (the bucket's lifecycle expiration). */
    readonly expirationDays: number;
  };
}

export interface ConsumerNode {
  readonly id: string;
  readonly name: string;
  readonly fifo: boolean;
  readonly batchSize: number;
  readonly memoryMb: number;
  readonly arm: boolean;
  /** Bound to a processed-messages table: transactional duplicate detection. */
  readonly transactionalDedup: boolean;
}

export interface OutboxNode {
  readonly id: string;
  readonly relay: 'log-tailing' | 'polling';
  readonly mode: 'in-item' | 'outbox-items';
  readonly batchSize: number;
  readonly memoryMb: number;
  readonly arm: boolean;
}

export interface Topology {
  readonly channels: readonly ChannelNode[];
  readonly consumers: readonly ConsumerNode[];
  readonly outboxes: readonly OutboxNode[];
  readonly alarms: number;
  readonly keys: number;
}

type Resources = Record<string, CfnResource>;

/** A readable name: the construct path without the stack and `Resource` (`OrderEvents`). */
function nameOf(id: string, resource: CfnResource | undefined): string {
  const path = resource?.Metadata?.['aws:cdk:path'];
  // Without path metadata, the logical id minus CDK's 8-character hash is the construct's id path.
  if (typeof path !== 'string') return id.replace(/[0-9A-F]{8}$/, '');
  const parts = path.split('/').slice(1);
  if (parts.at(-1) === 'Resource') parts.pop();
  return parts.join('/') || id;
}

/** The logical id a `Ref` or `Fn::GetAtt` points at, if any. */
function target(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
  return v.Ref ?? v['Fn::GetAtt']?.[0];
}

const env = (r: CfnResource | undefined) =>
  ((r?.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ??
    {}) as Record<string, unknown>;

function functionFacts(resource: CfnResource | undefined): { memoryMb: number; arm: boolean } {
  const props = resource?.Properties ?? {};
  return {
    memoryMb: Number(props.MemorySize ?? 128),
    arm: ((props.Architectures as string[] | undefined) ?? []).includes('arm64'),
  };
}

export function readTopology(templates: readonly CfnTemplate[]): Topology {
  const resources: Resources = Object.assign({}, ...templates.map((t) => t.Resources ?? {}));
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const functions = ofType('AWS::Lambda::Function');

  // Channels are topics, and queues some function is told to send to (SWITCHYARD_CHANNEL_<NAME>).
  const channelTargets = new Set<string>();
  for (const [, fn] of functions) {
    for (const [name, value] of Object.entries(env(fn))) {
      if (name.startsWith('SWITCHYARD_CHANNEL_') && !name.endsWith('_MAX_MESSAGE_BYTES')) {
        const id = target(value);
        if (id) channelTargets.add(id);
      }
    }
  }
  // Claim-check channels: SWITCHYARD_CHANNEL_<NAME>_CLAIM_CHECK_BUCKET next to the channel's variable.
  const claimBuckets = new Map<string, string>();
  for (const [, fn] of functions) {
    const variables = env(fn);
    for (const [name, value] of Object.entries(variables)) {
      if (!name.endsWith('_CLAIM_CHECK_BUCKET')) continue;
      const channel = target(variables[name.slice(0, -'_CLAIM_CHECK_BUCKET'.length)]);
      const bucket = target(value);
      if (channel && bucket) claimBuckets.set(channel, bucket);
    }
  }
  const claimCheckOf = (id: string, maxMessageBytes: number): ChannelNode['claimCheck'] => {
    const bucket = claimBuckets.get(id);
    if (!bucket) return undefined;
    const rules = ((
      resources[bucket]?.Properties?.LifecycleConfiguration as { Rules?: unknown[] } | undefined
    )?.Rules ?? []) as { ExpirationInDays?: number }[];
    return { maxMessageBytes, expirationDays: Number(rules[0]?.ExpirationInDays ?? 15) };
  };
  const subscriptions = ofType('AWS::SNS::Subscription').map(([, s]) => target(s.Properties?.TopicArn));
  const channels: ChannelNode[] = [
    ...ofType('AWS::SNS::Topic')
      .filter(([id]) => channelTargets.has(id) || subscriptions.includes(id))
      .map(([id, t]) => ({
        id: nameOf(id, t),
        kind: 'topic' as const,
        fifo: t.Properties?.FifoTopic === true || t.Properties?.FifoTopic === 'true',
        subscribers: subscriptions.filter((s) => s === id).length,
        claimCheck: claimCheckOf(id, Number(t.Properties?.MaximumMessageSize ?? 262_144)),
      })),
    ...ofType('AWS::SQS::Queue')
      .filter(([id]) => channelTargets.has(id))
      .map(([id, q]) => ({
        id: nameOf(id, q),
        kind: 'queue' as const,
        fifo: q.Properties?.FifoQueue === true || q.Properties?.FifoQueue === 'true',
        subscribers: 0,
        claimCheck: claimCheckOf(id, Number(q.Properties?.MaximumMessageSize ?? 1_048_576)),
      })),
  ];

  const consumers: ConsumerNode[] = [];
  const outboxes: OutboxNode[] = [];
  for (const [id, mapping] of ofType('AWS::Lambda::EventSourceMapping')) {
    const source = target(mapping.Properties?.EventSourceArn);
    const fnId = target(mapping.Properties?.FunctionName);
    const fn = fnId ? resources[fnId] : undefined;
    const batchSize = Number(mapping.Properties?.BatchSize ?? 10);
    const sourceResource = source ? resources[source] : undefined;
    if (sourceResource?.Type === 'AWS::SQS::Queue') {
      const variables = env(fn);
      consumers.push({
        id,
        name: String(variables.SWITCHYARD_CONSUMER_NAME ?? nameOf(fnId ?? id, fn)),
        fifo:
          sourceResource.Properties?.FifoQueue === true || sourceResource.Properties?.FifoQueue === 'true',
        batchSize,
        ...functionFacts(fn),
        transactionalDedup: 'SWITCHYARD_PROCESSED_MESSAGES_TABLE' in variables,
      });
    } else if (sourceResource?.Type === 'AWS::DynamoDB::Table') {
      outboxes.push({
        id: nameOf(fnId ?? id, fn),
        relay: 'log-tailing',
        mode: writerMode(functions, source!),
        batchSize,
        ...functionFacts(fn),
      });
    }
  }
  return {
    channels,
    consumers,
    outboxes,
    alarms: ofType('AWS::CloudWatch::Alarm').length,
    keys: ofType('AWS::KMS::Key').length,
  };
}

/** The outbox mode the table's writers were granted (SWITCHYARD_OUTBOX_MODE). */
function writerMode(functions: [string, CfnResource][], tableId: string): 'in-item' | 'outbox-items' {
  for (const [, fn] of functions) {
    const variables = env(fn);
    if (
      target(variables.SWITCHYARD_OUTBOX_TABLE) === tableId &&
      variables.SWITCHYARD_OUTBOX_MODE === 'in-item'
    ) {
      return 'in-item';
    }
  }
  return 'outbox-items';
}
