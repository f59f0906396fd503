/**
 * Per-channel message size limits as AWS has them now, and the environment variable through which
 * the CDK constructs tell a producer the limit of each channel it is bound to. Shared by the
 * constructs (which set it) and the pre-send validation (which reads it).
 */
import { channelEnvironmentVariable } from './port';

/** SNS topics accept 256 KiB unless the topic sets MaximumMessageSize. */
export const SNS_DEFAULT_MAX_MESSAGE_BYTES = 262_144;
/** SQS queues accept up to 1 MiB (since August 2025); opt-in SNS topics too (since September 2026). */
export const LARGE_MAX_MESSAGE_BYTES = 1_048_576;
/** SQS's default and maximum message size. */
export const SQS_DEFAULT_MAX_MESSAGE_BYTES = LARGE_MAX_MESSAGE_BYTES;

/** `SWITCHYARD_CHANNEL_<NAME>_MAX_MESSAGE_BYTES`: the channel's limit in bytes (body + attributes). */
export function channelMaxMessageBytesVariable(channelName: string): string {
  return `${channelEnvironmentVariable(channelName)}_MAX_MESSAGE_BYTES`;
}

/**
 * The limit of a channel from the environment, or undefined when the construct did not set it (the
 * caller then falls back to the default of the channel kind, or asks the queue's attributes).
 */
export function channelMaxMessageBytesFromEnvironment(
  channelName: string,
  env: NodeJS.ProcessEnv = process.env,
): number | undefined {
  const raw = env[channelMaxMessageBytesVariable(channelName)];
  if (raw === undefined || raw === '') return undefined;
  const bytes = Number(raw);
  return Number.isInteger(bytes) && bytes > 0 ? bytes : undefined;
}
