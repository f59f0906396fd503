/**
 * What both kinds of channel share: a name, the message definitions that travel on it, producer
 * binding through `SWITCHYARD_CHANNEL_<NAME>`, and export/import through SSM so other stacks plug in.
 */
import { Stack, Token } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type { Construct, IConstruct } from 'constructs';
import type { MessageDefinition } from '../lambdas/core/definition';
import { channelLimitVariable } from '../lambdas/producer/limits';
import { channelEnvironmentVariable } from '../lambdas/producer/port';
import type { ClaimCheckStore } from './claim-check-store';
import { SwitchyardConfigurationError } from './validation';

/** Suffix of the parameter holding the channel's KMS key ARN, next to the channel's own parameter. */
export const KEY_ARN_PARAMETER_SUFFIX = '/kms-key-arn';

/** Members every channel has, created here or imported. */
export interface IChannel extends IConstruct {
  /** The logical channel name, without `.fifo` (e.g. `order-events`). */
  readonly channelName: string;
  readonly fifo: boolean;
  /** The message types that travel on this channel (documentation, AsyncAPI). Empty for imports. */
  readonly messages: readonly MessageDefinition[];
  /** The address producers use: topic ARN or queue URL. */
  readonly address: string;
  /** The name of the environment variable `bindProducer` sets: `SWITCHYARD_CHANNEL_<NAME>`. */
  readonly environmentVariable: string;
  /**
   * Largest message the channel accepts, in bytes (body + attributes), when known here. `bindProducer`
   * passes it as `SWITCHYARD_CHANNEL_<NAME>_MAX_MESSAGE_BYTES` so the producer checks the real limit.
   */
  readonly maxMessageBytes?: number;
  /**
   * Lets `fn` produce to this channel: grants publish/send and sets `SWITCHYARD_CHANNEL_<NAME>` to the
   * channel's address, which `channelFromEnvironment(name)` reads at run time.
   */
  bindProducer(fn: lambda.Function): iam.Grant;
  /** The claim check store of large payloads, when the channel opted in (not known for imports). */
  readonly claimCheck?: ClaimCheckStore;
}

/** Options when importing a channel made by another stack or app. */
export interface ChannelImportOptions {
  /**
   * Logical channel name, used for `SWITCHYARD_CHANNEL_<NAME>`.
   * @default - the resource name in the ARN (or the last segment of the SSM parameter name), without `.fifo`
   */
  readonly channelName?: string;
  /**
   * Whether the channel is FIFO.
   * @default - true when the name ends in `.fifo`
   */
  readonly fifo?: boolean;
  /**
   * ARN of the KMS key the channel is encrypted with, so grants include the key actions.
   * @default - no key grants (right for SQS-managed SSE)
   */
  readonly keyArn?: string;
}

/** Options when importing a channel from an SSM parameter written by `exportToSsm`. */
export interface ChannelSsmImportOptions extends Omit<ChannelImportOptions, 'keyArn'> {
  /**
   * SSM parameter holding the KMS key ARN of the channel.
   * @default `<parameterName>/kms-key-arn` (written by `exportToSsm` for topics and queues)
   */
  readonly keyArnParameterName?: string;
}

/** Default SSM parameter of a channel: `/switchyard/<backbone>/channels/<physical name>`. */
export function defaultParameterName(
  scope: Construct,
  backboneName: string | undefined,
  physicalName: string,
) {
  return `/switchyard/${backboneName ?? Stack.of(scope).stackName}/channels/${physicalName}`;
}

/** Writes the channel's ARN (and its key's ARN when it has one) to SSM. */
export function writeChannelParameters(
  scope: Construct,
  parameterName: string,
  arn: string,
  description: string,
  keyArn?: string,
): ssm.StringParameter {
  const parameter = new ssm.StringParameter(scope, 'ArnParameter', {
    parameterName,
    stringValue: arn,
    description,
  });
  if (keyArn) {
    new ssm.StringParameter(scope, 'KeyArnParameter', {
      parameterName: `${parameterName}${KEY_ARN_PARAMETER_SUFFIX}`,
      stringValue: keyArn,
      description: `KMS key of ${description}`,
    });
  }
  return parameter;
}

/** The name and FIFO flag of an imported channel, from options or from a literal resource name. */
export function importedIdentity(
  scope: Construct,
  resourceName: string,
  options: ChannelImportOptions,
  hint: string,
): { channelName: string; fifo: boolean } {
  const literal = Token.isUnresolved(resourceName) ? undefined : resourceName;
  const channelName = options.channelName ?? literal?.replace(/\.fifo$/, '');
  if (!channelName) {
    throw new SwitchyardConfigurationError(
      `${scope.node.path}: the channel name cannot be read from ${hint} because it is a token. ` +
        'Pass { channelName } in the import options (the name producers use with channelFromEnvironment).',
      ['channelName missing'],
    );
  }
  return { channelName, fifo: options.fifo ?? literal?.endsWith('.fifo') ?? false };
}

/** The last segment of an SSM parameter name, e.g. `order-events.fifo`. */
export function lastSegment(parameterName: string): string {
  if (Token.isUnresolved(parameterName)) return parameterName;
  const parts = parameterName.split('/');
  return parts[parts.length - 1] ?? parameterName;
}

/** Grants and sets the environment variable; shared by both channel kinds. */
export function bindChannel(channel: IChannel, fn: lambda.Function, grant: iam.Grant): iam.Grant {
  for (const [name, value] of Object.entries(channelEnvironment(channel))) fn.addEnvironment(name, value);
  channel.claimCheck?.grantPut(fn, channel.channelName);
  return grant;
}

/** The variables a producer of `channel` needs: its address and, when known, its size limit. */
export function channelEnvironment(channel: IChannel): Record<string, string> {
  const variables: Record<string, string> = { [channel.environmentVariable]: channel.address };
  if (channel.maxMessageBytes !== undefined) {
    variables[channelLimitVariable(channel.channelName)] = String(channel.maxMessageBytes);
  }
  // Writers of a transactional outbox get these too: their commit checks a large message as the
  // claim envelope it will travel as (the relay, bound as producer, is the one that stores it).
  if (channel.claimCheck) Object.assign(variables, channel.claimCheck.environmentFor(channel.channelName));
  return variables;
}

export { channelEnvironmentVariable };
