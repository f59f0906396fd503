/** Reads the configuration the example functions need from their environment. */
import { ConfigurationError, channelFromEnvironment } from 'switchyard-aws/runtime';

/** The value of a required variable; throws ConfigurationError naming it when it is missing. */
export function requiredVariable(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (!value) {
    throw new ConfigurationError(
      `Environment variable ${name} is not set. The example stack sets it; when running elsewhere set it to the table name.`,
    );
  }
  return value;
}

/** The address (topic ARN or queue URL) of a channel bound to this function. */
export function channelAddress(channelName: string, env: NodeJS.ProcessEnv = process.env): string {
  const ref = channelFromEnvironment(channelName, env);
  return ref.type === 'publish-subscribe' ? ref.topicArn : ref.queueUrl;
}

/** True when DynamoDB refused a write because its condition did not hold (a duplicate, usually). */
export function isConditionalCheckFailure(error: unknown): boolean {
  return (error as { name?: string } | undefined)?.name === 'ConditionalCheckFailedException';
}
