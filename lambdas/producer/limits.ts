/**
 * The largest message a channel accepts. SQS queues take up to 1 MiB; SNS topics 256 KiB unless the
 * topic raises its MaximumMessageSize (up to 1 MiB). The channel construct passes a raised limit to
 * bound functions as `SWITCHYARD_CHANNEL_<NAME>_MAX_MESSAGE_BYTES`, next to the channel's address.
 */
import { ConfigurationError } from '../core/errors';
import { channelEnvironmentVariable } from './port';

/** SNS topics without a MaximumMessageSize attribute. */
export const SNS_DEFAULT_MAX_MESSAGE_BYTES = 262_144;
/** SQS queues (and the highest MaximumMessageSize an SNS topic may set). */
export const SQS_MAX_MESSAGE_BYTES = 1_048_576;
/** No SNS or SQS channel accepts more. */
export const LARGEST_MESSAGE_BYTES = SQS_MAX_MESSAGE_BYTES;
/** The smallest MaximumMessageSize SNS and SQS allow. */
const SMALLEST_MAX_MESSAGE_BYTES = 1024;

const SUFFIX = '_MAX_MESSAGE_BYTES';

/** `SWITCHYARD_CHANNEL_<NAME>_MAX_MESSAGE_BYTES`: where a channel's raised size limit reaches a function. */
export function channelLimitVariable(channelName: string): string {
  return `${channelEnvironmentVariable(channelName)}${SUFFIX}`;
}

/** The default of a channel kind: 256 KiB for a topic ARN, 1 MiB for a queue URL. */
export function defaultMaxMessageBytes(address: string): number {
  return /^arn:[^:]+:sns:/.test(address) ? SNS_DEFAULT_MAX_MESSAGE_BYTES : SQS_MAX_MESSAGE_BYTES;
}

/** Parses a configured limit; a value SNS/SQS would not accept is a configuration error naming the variable. */
export function parseMaxMessageBytes(raw: string, variable: string): number {
  const bytes = Number(raw);
  if (!Number.isInteger(bytes) || bytes < SMALLEST_MAX_MESSAGE_BYTES || bytes > LARGEST_MESSAGE_BYTES) {
    throw new ConfigurationError(
      `${variable} is "${raw}"; it must be the channel's MaximumMessageSize in bytes, a whole number from ` +
        `${SMALLEST_MAX_MESSAGE_BYTES} to ${LARGEST_MESSAGE_BYTES}. Let the channel construct set it.`,
    );
  }
  return bytes;
}

/**
 * The size limit of the channel at `address`: the `_MAX_MESSAGE_BYTES` variable of the bound
 * channel whose `SWITCHYARD_CHANNEL_<NAME>` holds this address, else the default of its kind.
 *
 * @example
 * maxMessageBytesOf('arn:aws:sns:eu-west-1:111122223333:orders'); // 262144, or the topic's raised limit
 */
export function maxMessageBytesOf(address: string, env: NodeJS.ProcessEnv = process.env): number {
  for (const [variable, value] of Object.entries(env)) {
    if (value !== address || !variable.startsWith('SWITCHYARD_CHANNEL_') || variable.endsWith(SUFFIX))
      continue;
    const raw = env[`${variable}${SUFFIX}`];
    if (raw !== undefined && raw !== '') return parseMaxMessageBytes(raw, `${variable}${SUFFIX}`);
  }
  return defaultMaxMessageBytes(address);
}
