/** Reads the address of a channel bound to this function from its environment. */
import { ConfigurationError } from '../core/errors';
import { channelLimitVariable, parseMaxMessageBytes } from './limits';
import { type ChannelRef, channelEnvironmentVariable, channelRef } from './port';

/**
 * The channel named `channelName`, from `SWITCHYARD_CHANNEL_<NAME>` (a topic ARN or queue URL), with
 * its size limit from `SWITCHYARD_CHANNEL_<NAME>_MAX_MESSAGE_BYTES` when the channel raised it.
 * Throws ConfigurationError naming the variable when it is missing or holds something else.
 *
 * @example
 * const orders = channelFromEnvironment('orders'); // reads SWITCHYARD_CHANNEL_ORDERS
 * await producer.dispatch(orders, [OrderCreated.create({ orderId: 'o-1', total: 12 })]);
 */
export function channelFromEnvironment(
  channelName: string,
  env: NodeJS.ProcessEnv = process.env,
): ChannelRef {
  const variable = channelEnvironmentVariable(channelName);
  const address = env[variable];
  if (!address) {
    throw new ConfigurationError(
      `Environment variable ${variable} is not set, so this function does not know the address of channel ` +
        `"${channelName}". Bind the channel to the function in CDK (the Switchyard channel construct sets ` +
        `${variable} and grants publish/send), or set ${variable} to the topic ARN or queue URL.`,
    );
  }
  const limitVariable = channelLimitVariable(channelName);
  const limit = env[limitVariable];
  const maxMessageBytes = limit ? parseMaxMessageBytes(limit, limitVariable) : undefined;
  try {
    const channel = channelRef(address);
    return maxMessageBytes === undefined ? channel : { ...channel, maxMessageBytes };
  } catch (error) {
    throw new ConfigurationError(
      `Environment variable ${variable} of channel "${channelName}" holds "${address}", which is neither an SNS ` +
        `topic ARN nor an SQS queue URL. Bind the channel to the function in CDK so it holds the channel's address. ` +
        `(${(error as Error).message})`,
    );
  }
}
