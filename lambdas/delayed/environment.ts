/** Reads the schedule group, execution role and DLQ that the `DelayedDelivery` construct gave a function. */
import { ConfigurationError } from '../core/errors';

/** What a schedule needs besides the message: set by `DelayedDelivery.grantSchedule(fn)`. */
export interface SchedulerSettings {
  /** The schedule group of the backbone. */
  readonly groupName: string;
  /** The role EventBridge Scheduler assumes to send or publish the message. */
  readonly roleArn: string;
  /** ARN of the SQS queue a schedule sends a message to when it cannot deliver it. */
  readonly deadLetterQueueArn: string;
}

export const SCHEDULER_GROUP_VARIABLE = 'SWITCHYARD_SCHEDULER_GROUP';
export const SCHEDULER_ROLE_VARIABLE = 'SWITCHYARD_SCHEDULER_ROLE_ARN';
export const SCHEDULER_DLQ_VARIABLE = 'SWITCHYARD_SCHEDULER_DLQ_ARN';

/** The scheduler settings from the function's environment; throws naming the missing variables. */
export function schedulerSettingsFromEnvironment(env: NodeJS.ProcessEnv = process.env): SchedulerSettings {
  const variables = [SCHEDULER_GROUP_VARIABLE, SCHEDULER_ROLE_VARIABLE, SCHEDULER_DLQ_VARIABLE];
  const missing = variables.filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new ConfigurationError(
      `Delayed delivery beyond 15 minutes needs ${missing.join(', ')}, which are not set. Call ` +
        '`delayedDelivery.grantSchedule(fn)` on the DelayedDelivery construct in CDK (it sets them and grants ' +
        'scheduler:CreateSchedule and iam:PassRole), or pass `scheduler` settings to createDelayedDelivery().',
    );
  }
  return {
    groupName: env[SCHEDULER_GROUP_VARIABLE]!,
    roleArn: env[SCHEDULER_ROLE_VARIABLE]!,
    deadLetterQueueArn: env[SCHEDULER_DLQ_VARIABLE]!,
  };
}
