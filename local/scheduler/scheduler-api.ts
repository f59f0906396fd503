/**
 * The EventBridge Scheduler operations the runtime and an operator use (CreateSchedule, GetSchedule,
 * DeleteSchedule, ListSchedules, GetScheduleGroup), answered from a LocalScheduler in the service's
 * restJson1 wire format: the operation is the HTTP method and path (`POST /schedules/{Name}`),
 * errors carry their type in `x-amzn-errortype`, times are epoch seconds.
 */
import type { ServiceError } from '../iam/aws-errors';
import {
  DEFAULT_GROUP,
  type LocalScheduler,
  parseAtExpression,
  type ScheduleTarget,
  SNS_PUBLISH_TARGET,
  SQS_SEND_MESSAGE_TARGET,
  type StoredSchedule,
} from './local-scheduler';

export type SchedulerAnswer =
  | { readonly ok: true; readonly body: unknown }
  | { readonly ok: false; readonly error: ServiceError };

/** A Scheduler request as routed from its method and path. */
export interface SchedulerOperation {
  readonly operation: string;
  /** `{Name}` of the path, decoded. */
  readonly name?: string;
}

/** `POST /schedules/x` -> CreateSchedule x; the operations the SDK's restJson1 protocol sends. */
export function schedulerOperation(method: string, path: string): SchedulerOperation {
  const [, collection, rawName] = /^\/(schedules|schedule-groups)(?:\/([^/?]+))?/.exec(path) ?? [];
  const name = rawName === undefined ? undefined : decodeURIComponent(rawName);
  const verb = method.toUpperCase();
  const kind = collection === 'schedule-groups' ? 'ScheduleGroup' : 'Schedule';
  if (!collection) return { operation: 'Unknown' };
  if (name === undefined) return { operation: verb === 'GET' ? `List${kind}s` : 'Unknown' };
  const byVerb: Record<string, string> = { POST: 'Create', GET: 'Get', DELETE: 'Delete', PUT: 'Update' };
  return { operation: `${byVerb[verb] ?? 'Unknown'}${kind}`, name };
}

const NAME = /^[0-9a-zA-Z-_.]{1,64}$/;

function error(code: string, message: string, status: number): SchedulerAnswer {
  return { ok: false, error: { code, message, status } };
}

const validation = (message: string) => error('ValidationException', message, 400);

function wireSchedule(s: StoredSchedule): Record<string, unknown> {
  return {
    Arn: s.arn,
    Name: s.name,
    GroupName: s.groupName,
    ScheduleExpression: s.expression,
    ScheduleExpressionTimezone: s.timezone,
    State: s.state,
    ActionAfterCompletion: s.actionAfterCompletion,
    FlexibleTimeWindow: s.flexibleTimeWindow,
    Description: s.description,
    Target: s.target,
    CreationDate: s.createdAt.getTime() / 1000,
    LastModificationDate: s.createdAt.getTime() / 1000,
  };
}

function createSchedule(
  scheduler: LocalScheduler,
  name: string,
  input: Record<string, unknown>,
): SchedulerAnswer {
  const group = String(input.GroupName ?? DEFAULT_GROUP);
  if (!NAME.test(name)) return validation(`Schedule name "${name}" must be 1-64 of [0-9a-zA-Z-_.].`);
  if (!scheduler.hasGroup(group))
    return error('ResourceNotFoundException', `Schedule group ${group} does not exist.`, 404);
  if (scheduler.get(group, name)) return error('ConflictException', `Schedule ${name} already exists.`, 409);
  const expression = String(input.ScheduleExpression ?? '');
  const timezone = String(input.ScheduleExpressionTimezone ?? 'UTC');
  const fireAtMs = parseAtExpression(expression, timezone);
  if (fireAtMs === undefined)
    return validation(
      `Invalid Schedule Expression ${expression} (timezone ${timezone}). The local scheduler runs one-time at(yyyy-mm-ddThh:mm:ss) schedules in UTC.`,
    );
  const window = input.FlexibleTimeWindow as StoredSchedule['flexibleTimeWindow'] | undefined;
  if (!window?.Mode) return validation('FlexibleTimeWindow is required.');
  const target = input.Target as ScheduleTarget | undefined;
  if (!target?.Arn || !target.RoleArn) return validation('Target.Arn and Target.RoleArn are required.');
  if (target.Arn !== SQS_SEND_MESSAGE_TARGET && target.Arn !== SNS_PUBLISH_TARGET)
    return validation(
      `Target ${target.Arn} is not emulated locally; the local scheduler runs ${SQS_SEND_MESSAGE_TARGET} and ${SNS_PUBLISH_TARGET}.`,
    );
  try {
    JSON.parse(target.Input ?? '');
  } catch {
    return validation('Target.Input must be the JSON request of the universal target.');
  }
  const arn = scheduler.scheduleArn(group, name);
  scheduler.add({
    name,
    groupName: group,
    arn,
    expression,
    timezone,
    state: input.State === 'DISABLED' ? 'DISABLED' : 'ENABLED',
    actionAfterCompletion: input.ActionAfterCompletion === 'DELETE' ? 'DELETE' : 'NONE',
    flexibleTimeWindow: window,
    description: typeof input.Description === 'string' ? input.Description : undefined,
    target,
    fireAtMs,
    createdAt: new Date(scheduler.now()),
  });
  return { ok: true, body: { ScheduleArn: arn } };
}

/** Answers one Scheduler operation from `scheduler`. */
export function answerScheduler(
  scheduler: LocalScheduler,
  request: SchedulerOperation,
  query: URLSearchParams,
  input: Record<string, unknown>,
): SchedulerAnswer {
  const group = query.get('groupName') ?? DEFAULT_GROUP;
  switch (request.operation) {
    case 'CreateSchedule':
      return createSchedule(scheduler, request.name ?? '', input);
    case 'GetSchedule': {
      const found = scheduler.get(group, request.name ?? '');
      if (!found) return error('ResourceNotFoundException', `Schedule ${request.name} does not exist.`, 404);
      return { ok: true, body: wireSchedule(found) };
    }
    case 'DeleteSchedule':
      if (!scheduler.delete(group, request.name ?? ''))
        return error('ResourceNotFoundException', `Schedule ${request.name} does not exist.`, 404);
      return { ok: true, body: {} };
    case 'ListSchedules': {
      const listed = scheduler.list(
        query.get('ScheduleGroup') ?? undefined,
        query.get('NamePrefix') ?? undefined,
      );
      return {
        ok: true,
        body: {
          Schedules: listed.map((s) => ({
            Arn: s.arn,
            Name: s.name,
            GroupName: s.groupName,
            State: s.state,
            CreationDate: s.createdAt.getTime() / 1000,
            LastModificationDate: s.createdAt.getTime() / 1000,
            Target: { Arn: s.target.Arn },
          })),
        },
      };
    }
    case 'GetScheduleGroup': {
      const name = request.name ?? '';
      if (!scheduler.hasGroup(name))
        return error('ResourceNotFoundException', `Schedule group ${name} does not exist.`, 404);
      return { ok: true, body: { Arn: scheduler.groupArn(name), Name: name, State: 'ACTIVE' } };
    }
    default:
      return validation(
        `EventBridge Scheduler ${request.operation} is not emulated by the local cloud (CreateSchedule, GetSchedule, DeleteSchedule, ListSchedules and GetScheduleGroup are).`,
      );
  }
}
