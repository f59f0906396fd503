/**
 * The local EventBridge Scheduler: keeps schedule groups and one-time `at()` schedules, and at their
 * time performs the target's API call AS the schedule's execution role, through the authorizing
 * gateway, so the role's policies and the queue, topic and key policies apply as they do to
 * deliveries. A delivery the target refuses goes to the schedule's dead-letter queue with the error;
 * a completed schedule with ActionAfterCompletion DELETE is deleted.
 *
 * Its clock can be moved ahead (`advanceClock`), so "deliver in two days" runs in a test in seconds
 * while still proving that nothing is delivered before T.
 */
import { PublishCommand, type PublishCommandInput, SNSClient } from '@aws-sdk/client-sns';
import { SendMessageCommand, type SendMessageCommandInput, SQSClient } from '@aws-sdk/client-sqs';
import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';
import type { CredentialRegistry } from '../iam/credentials';

export const DEFAULT_GROUP = 'default';
export const SQS_SEND_MESSAGE_TARGET = 'arn:aws:scheduler:::aws-sdk:sqs:sendMessage';
export const SNS_PUBLISH_TARGET = 'arn:aws:scheduler:::aws-sdk:sns:publish';

export interface ScheduleTarget {
  readonly Arn: string;
  readonly RoleArn: string;
  readonly Input?: string;
  readonly DeadLetterConfig?: { readonly Arn?: string };
  readonly RetryPolicy?: {
    readonly MaximumRetryAttempts?: number;
    readonly MaximumEventAgeInSeconds?: number;
  };
  readonly SqsParameters?: { readonly MessageGroupId?: string };
}

export interface StoredSchedule {
  readonly name: string;
  readonly groupName: string;
  readonly arn: string;
  readonly expression: string;
  readonly timezone: string;
  readonly state: 'ENABLED' | 'DISABLED';
  readonly actionAfterCompletion: 'NONE' | 'DELETE';
  readonly flexibleTimeWindow: { readonly Mode: string; readonly MaximumWindowInMinutes?: number };
  readonly description?: string;
  readonly target: ScheduleTarget;
  /** When the schedule runs, in ms since the epoch (its `at()` time). */
  readonly fireAtMs: number;
  readonly createdAt: Date;
  /** Set once it ran, for schedules kept after completion. */
  completed?: boolean;
}

/** What happened to one run of a schedule, for tests and the log. */
export interface ScheduleRun {
  readonly schedule: string;
  readonly firedAtMs: number;
  readonly outcome: 'delivered' | 'dead-lettered' | 'dropped';
  readonly attempts: number;
  readonly error?: string;
}

export interface LocalSchedulerOptions {
  readonly region: string;
  readonly accountId: string;
  readonly credentials: CredentialRegistry;
  /** The gateway's endpoint: every target call goes through it (known once the gateway listens). */
  readonly endpoint: () => string;
  readonly log?: (line: string) => void;
  /** How often due schedules are looked for. @default 200 ms */
  readonly tickMs?: number;
  /** Local cap on target attempts (AWS retries for up to 24 hours). @default 3 */
  readonly maxLocalAttempts?: number;
}

/** `at(2027-01-31T09:00:00)` in UTC -> ms since the epoch; undefined for anything else. */
export function parseAtExpression(expression: string, timezone = 'UTC'): number | undefined {
  const match = /^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$/.exec(expression);
  if (!match || timezone !== 'UTC') return undefined;
  const ms = Date.parse(`${match[1]}Z`);
  return Number.isFinite(ms) ? ms : undefined;
}

/** Throttles, transient and server errors: what Scheduler's retry policy retries. */
function mayPassLater(error: unknown): boolean {
  const sdkError = error as Parameters<typeof isThrottlingError>[0];
  return isThrottlingError(sdkError) || isTransientError(sdkError) || isServerError(sdkError);
}

export class LocalScheduler {
  private readonly groups = new Map<string, string>();
  private readonly schedules = new Map<string, StoredSchedule>();
  private readonly clients = new Map<string, { sqs: SQSClient; sns: SNSClient }>();
  private readonly inFlight = new Set<string>();
  private offsetMs = 0;
  private timer?: NodeJS.Timeout;
  readonly runs: ScheduleRun[] = [];

  constructor(private readonly options: LocalSchedulerOptions) {
    this.createGroup(DEFAULT_GROUP);
  }

  /** The scheduler's clock: the machine's, plus whatever `advanceClock` added. */
  now(): number {
    return Date.now() + this.offsetMs;
  }

  /** Moves the scheduler's clock ahead (never back) and runs what became due. */
  async advanceClock(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new Error(`advanceClock needs a duration of 0 or more milliseconds, got ${ms}.`);
    this.offsetMs += ms;
    await this.runDue();
  }

  groupArn(name: string): string {
    return `arn:aws:scheduler:${this.options.region}:${this.options.accountId}:schedule-group/${name}`;
  }

  scheduleArn(group: string, name: string): string {
    return `arn:aws:scheduler:${this.options.region}:${this.options.accountId}:schedule/${group}/${name}`;
  }

  createGroup(name: string): string {
    const arn = this.groupArn(name);
    this.groups.set(name, arn);
    return arn;
  }

  hasGroup(name: string): boolean {
    return this.groups.has(name);
  }

  get(group: string, name: string): StoredSchedule | undefined {
    return this.schedules.get(`${group}/${name}`);
  }

  list(group?: string, namePrefix?: string): StoredSchedule[] {
    return [...this.schedules.values()].filter(
      (s) => (group === undefined || s.groupName === group) && (!namePrefix || s.name.startsWith(namePrefix)),
    );
  }

  add(schedule: StoredSchedule): void {
    this.schedules.set(`${schedule.groupName}/${schedule.name}`, schedule);
  }

  delete(group: string, name: string): boolean {
    return this.schedules.delete(`${group}/${name}`);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.runDue().catch((error: Error) => this.options.log?.(`Scheduler: ${error.message}`));
    }, this.options.tickMs ?? 200);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const { sqs, sns } of this.clients.values()) {
      sqs.destroy();
      sns.destroy();
    }
    this.clients.clear();
  }

  /** Runs every enabled schedule whose time has come, once. */
  async runDue(): Promise<void> {
    const now = this.now();
    const due = [...this.schedules.values()]
      .filter((s) => s.state === 'ENABLED' && !s.completed && s.fireAtMs <= now)
      .filter((s) => !this.inFlight.has(s.arn))
      .sort((a, b) => a.fireAtMs - b.fireAtMs);
    await Promise.all(due.map((s) => this.fire(s)));
  }

  private async fire(schedule: StoredSchedule): Promise<void> {
    this.inFlight.add(schedule.arn);
    try {
      const firedAtMs = this.now();
      const maxAttempts = Math.max(
        1,
        Math.min(
          1 + (schedule.target.RetryPolicy?.MaximumRetryAttempts ?? 185),
          this.options.maxLocalAttempts ?? 3,
        ),
      );
      let attempts = 0;
      let failure: { code: string; message: string } | undefined;
      for (;;) {
        attempts += 1;
        try {
          await this.invokeTarget(schedule.target);
          failure = undefined;
          break;
        } catch (error) {
          const e = error as Error & { Code?: string };
          failure = { code: e.name || e.Code || 'Error', message: e.message };
          // Scheduler retries what may pass later (throttles, server errors); a refusal goes to the DLQ at once.
          if (!mayPassLater(error) || attempts >= maxAttempts) break;
          await new Promise((resolve) => setTimeout(resolve, 50 * attempts));
        }
      }
      let outcome: ScheduleRun['outcome'] = 'delivered';
      if (failure)
        outcome = (await this.deadLetter(schedule, failure, attempts)) ? 'dead-lettered' : 'dropped';
      this.runs.push({ schedule: schedule.arn, firedAtMs, outcome, attempts, error: failure?.message });
      if (failure)
        this.options.log?.(
          `Schedule ${schedule.arn}: ${outcome} after ${attempts} attempt(s): ${failure.message}`,
        );
      if (schedule.actionAfterCompletion === 'DELETE') this.delete(schedule.groupName, schedule.name);
      else schedule.completed = true;
    } finally {
      this.inFlight.delete(schedule.arn);
    }
  }

  /** The universal target's API call, made with the execution role's credentials. */
  private async invokeTarget(target: ScheduleTarget): Promise<void> {
    // The universal target's Input is the API request itself, in the service's own field names.
    const input: unknown = JSON.parse(target.Input ?? '{}');
    const clients = this.clientsOf(target.RoleArn);
    if (target.Arn === SQS_SEND_MESSAGE_TARGET) {
      await clients.sqs.send(new SendMessageCommand(input as SendMessageCommandInput));
    } else if (target.Arn === SNS_PUBLISH_TARGET) {
      await clients.sns.send(new PublishCommand(input as PublishCommandInput));
    } else {
      // Validated at CreateSchedule; kept for schedules added directly.
      throw Object.assign(new Error(`Target ${target.Arn} is not emulated locally.`), {
        name: 'ValidationException',
      });
    }
  }

  /** Sends the failed event to the schedule's DLQ as the execution role; false when there is none or it fails too. */
  private async deadLetter(
    schedule: StoredSchedule,
    failure: { code: string; message: string },
    attempts: number,
  ): Promise<boolean> {
    const dlqArn = schedule.target.DeadLetterConfig?.Arn;
    if (!dlqArn) return false;
    const [, , , , account, name] = dlqArn.split(':');
    const attribute = (value: string) => ({ DataType: 'String', StringValue: value.slice(0, 1024) || '-' });
    try {
      await this.clientsOf(schedule.target.RoleArn).sqs.send(
        new SendMessageCommand({
          QueueUrl: `${this.options.endpoint()}/${account}/${name}`,
          MessageBody: schedule.target.Input ?? '{}',
          MessageAttributes: {
            ERROR_CODE: attribute(failure.code),
            ERROR_MESSAGE: attribute(failure.message),
            EXECUTION_ID: attribute(`${schedule.name}-${this.now()}`),
            RETRY_ATTEMPTS: attribute(String(attempts - 1)),
            SCHEDULE_ARN: attribute(schedule.arn),
            TARGET_ARN: attribute(schedule.target.Arn),
          },
        }),
      );
      return true;
    } catch (error) {
      this.options.log?.(
        `Schedule ${schedule.arn}: its dead-letter queue ${dlqArn} refused the event: ${(error as Error).message}`,
      );
      return false;
    }
  }

  private clientsOf(roleArn: string): { sqs: SQSClient; sns: SNSClient } {
    const existing = this.clients.get(roleArn);
    if (existing) return existing;
    // EventBridge Scheduler assumes the role; locally that is a session of the role named "scheduler".
    const identity = this.options.credentials.issue('scheduler', roleArn);
    const config = {
      endpoint: this.options.endpoint(),
      region: this.options.region,
      credentials: { accessKeyId: identity.accessKeyId, secretAccessKey: 'local' },
      maxAttempts: 1,
    };
    const clients = { sqs: new SQSClient(config), sns: new SNSClient(config) };
    this.clients.set(roleArn, clients);
    return clients;
  }
}
