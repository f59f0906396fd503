/**
 * The limits delayed delivery works within. SQS DelaySeconds reaches 15 minutes; beyond that (and for
 * SNS topics and FIFO queues, which have no per-message delay) an EventBridge Scheduler one-time
 * schedule carries the message.
 */

/** SQS's per-message DelaySeconds maximum (standard queues only). */
export const SQS_MAX_DELAY_SECONDS = 900;
/** Largest schedule Input EventBridge Scheduler accepts: 256 KB payload, as issue 12 and Scheduler's quotas page give it (unverified here). */
export const SCHEDULER_MAX_INPUT_BYTES = 262_144;
/**
 * Switchyard's horizon: "deliver at T" for T up to one year ahead (issue 12). Scheduler's `at()`
 * itself names no horizon; a bound catches a wrong unit (milliseconds given as seconds) at the call.
 */
export const MAX_DELAY_MS = 366 * 24 * 60 * 60 * 1000;
/** Scheduler's own default retry policy, made explicit: 185 attempts within 24 hours. */
export const SCHEDULE_RETRY_ATTEMPTS = 185;
export const SCHEDULE_MAX_EVENT_AGE_SECONDS = 86_400;
/** Schedule names are `<prefix><message id>`; the prefix makes them recognisable in a group. */
export const SCHEDULE_NAME_PREFIX = 'sy-';
/** EventBridge Scheduler's universal targets for the two channel kinds (they keep message attributes). */
export const SQS_SEND_MESSAGE_TARGET = 'arn:aws:scheduler:::aws-sdk:sqs:sendMessage';
export const SNS_PUBLISH_TARGET = 'arn:aws:scheduler:::aws-sdk:sns:publish';
