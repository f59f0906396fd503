/**
 * The topology model: what a Switchyard app's constructs build, as plain JSON. Extracted from the
 * construct tree at synth (see record.ts), stored in the cloud assembly, and read by the AsyncAPI
 * generator and the diagram, so the document and the picture are made from what deploys.
 */

export const TOPOLOGY_METADATA_TYPE = 'switchyard:topology';
export const TOPOLOGY_MODEL_VERSION = 1;

export interface MessageModel {
  readonly type: string;
  readonly kind: string;
  readonly description?: string;
  /** JSON Schema (draft-07) of the payload, from the zod schema. */
  readonly payloadSchema: Record<string, unknown>;
  /** Reply types of a command (request / asynchronous response). */
  readonly replies: readonly string[];
}

export interface ChannelModel {
  /** Logical channel name, e.g. `order-events`. */
  readonly name: string;
  readonly kind: 'publish-subscribe' | 'point-to-point';
  readonly fifo: boolean;
  /** Topic or queue name (the address producers resolve to an ARN or URL). */
  readonly physicalName: string;
  readonly messages: readonly string[];
  /** Queue channels: the DLQ's name (logical id when CDK names it). */
  readonly deadLetterQueue?: string;
  /** A consumer's own queue (subscribed to topics) rather than a declared channel. */
  readonly consumerQueue?: boolean;
}

export interface SubscriptionModel {
  readonly topic: string;
  readonly filterPolicy: Record<string, unknown>;
  readonly rawMessageDelivery: boolean;
}

export interface ConsumerModel {
  readonly name: string;
  readonly function: string;
  /** Name of the channel (declared or the consumer's own queue) it drains. */
  readonly queue: string;
  readonly deadLetterQueue: string;
  readonly subscriptions: readonly SubscriptionModel[];
  readonly handles: readonly string[];
}

export interface ProducerModel {
  readonly function: string;
  /** Channels it publishes/sends to directly. */
  readonly channels: readonly string[];
}

export interface OutboxModel {
  readonly name: string;
  readonly table: string;
  readonly relay: string;
  readonly mode: string;
  readonly relayFunction: string;
  readonly writers: readonly string[];
  readonly channels: readonly string[];
  readonly failureQueue: string;
}

export interface EndpointModel {
  readonly function: string;
  readonly authType: string;
}

export interface TopologyModel {
  readonly version: number;
  readonly stack: string;
  readonly messages: readonly MessageModel[];
  readonly channels: readonly ChannelModel[];
  readonly consumers: readonly ConsumerModel[];
  readonly producers: readonly ProducerModel[];
  readonly outboxes: readonly OutboxModel[];
  readonly endpoints: readonly EndpointModel[];
}
