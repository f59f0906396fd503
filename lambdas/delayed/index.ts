/** Delayed delivery: "deliver at T" through SQS DelaySeconds or an EventBridge Scheduler one-time schedule. */
export {
  createDelayedDelivery,
  type DelayedDelivery,
  type DelayedDeliveryOptions,
  type DelayedDeliveryResult,
  type DeliveryMechanism,
} from './delayed-delivery';
export {
  SCHEDULER_DLQ_VARIABLE,
  SCHEDULER_GROUP_VARIABLE,
  SCHEDULER_ROLE_VARIABLE,
  type SchedulerSettings,
  schedulerSettingsFromEnvironment,
} from './environment';
export { DelayedDeliveryError } from './errors';
export { MAX_DELAY_MS, SCHEDULER_MAX_INPUT_BYTES, SQS_MAX_DELAY_SECONDS } from './limits';
export { atExpression, createScheduleInput, scheduleNameOf } from './schedule-request';
