/**
 * Which channels offload large payloads, and where: the ClaimCheckStore construct sets
 * `SWITCHYARD_CHANNEL_<NAME>_CLAIM_CHECK_BUCKET` and `_CLAIM_CHECK_PREFIX` next to the channel's
 * address on every function bound to a channel that opted in.
 */
import { channelEnvironmentVariable } from '../producer/port';
import type { ClaimLocation } from './reference';

const BUCKET_SUFFIX = '_CLAIM_CHECK_BUCKET';
const PREFIX_SUFFIX = '_CLAIM_CHECK_PREFIX';

/** The variables that give a channel's claim location to a function. */
export function claimLocationVariables(channelName: string, location: ClaimLocation): Record<string, string> {
  const base = channelEnvironmentVariable(channelName);
  return { [`${base}${BUCKET_SUFFIX}`]: location.bucket, [`${base}${PREFIX_SUFFIX}`]: location.prefix };
}

/**
 * The claim location of the channel at `address` (topic ARN or queue URL), or undefined when the
 * channel does not offload (then an oversized message is refused as before).
 *
 * @example
 * claimLocationOf(process.env.SWITCHYARD_CHANNEL_ORDERS!); // { bucket: 'claims-...', prefix: 'orders/' }
 */
export function claimLocationOf(
  address: string,
  env: NodeJS.ProcessEnv = process.env,
): ClaimLocation | undefined {
  for (const [variable, value] of Object.entries(env)) {
    // Only the channel's own variable holds its address (the limit and claim variables hold other values).
    if (value !== address || !variable.startsWith('SWITCHYARD_CHANNEL_')) continue;
    const bucket = env[`${variable}${BUCKET_SUFFIX}`];
    if (bucket) return { bucket, prefix: env[`${variable}${PREFIX_SUFFIX}`] ?? '' };
  }
  return undefined;
}
