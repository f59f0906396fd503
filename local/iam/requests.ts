/**
 * Reads an AWS API request as the gateway receives it (SigV4 header, JSON or query body) and
 * says who calls, which IAM actions on which resources it needs, and which of its resources are
 * encrypted with a customer-managed key.
 */
import { schedulerOperation } from '../scheduler/scheduler-api';
import { canonicalArn } from './policy-document';
import { queueArnFromUrl } from './security-model';

export type Service = 'sqs' | 'sns' | 'dynamodb' | 'streams' | 'ssm' | 'scheduler' | 'unknown';

export interface ParsedRequest {
  readonly service: Service;
  /** API operation, e.g. `SendMessage`. */
  readonly operation: string;
  /** Access key id from the SigV4 Authorization header. */
  readonly accessKeyId?: string;
  /** JSON body (JSON protocols) or the query parameters (query protocol). */
  readonly json: Record<string, unknown>;
  readonly query: URLSearchParams;
  /** `{Name}` of a restJson1 path (EventBridge Scheduler). */
  readonly pathName?: string;
}

export interface ActionCheck {
  readonly action: string;
  readonly resource: string;
}

const SIGV4 = /Credential=([^/,\s]+)\/[^/]+\/[^/]+\/([^/]+)\/aws4_request/;

export function parseRequest(
  headers: Record<string, string | string[] | undefined>,
  body: string,
  method = 'POST',
  url = '/',
): ParsedRequest {
  const authorization = String(headers.authorization ?? '');
  const signed = SIGV4.exec(authorization);
  const target = String(headers['x-amz-target'] ?? '');
  const [prefix, operation = ''] = target.split('.');
  let json: Record<string, unknown> = {};
  let query = new URLSearchParams();
  if (target) {
    try {
      json = body ? (JSON.parse(body) as Record<string, unknown>) : {};
    } catch {
      json = {};
    }
  } else {
    query = new URLSearchParams(body);
  }
  // EventBridge Scheduler speaks restJson1: no target header; the operation is the method and path.
  if (signed?.[2] === 'scheduler') {
    const [path = '/', search = ''] = url.split('?');
    const routed = schedulerOperation(method, path);
    let input: Record<string, unknown> = {};
    try {
      input = body ? (JSON.parse(body) as Record<string, unknown>) : {};
    } catch {
      input = {};
    }
    return {
      service: 'scheduler',
      operation: routed.operation,
      accessKeyId: signed[1],
      json: input,
      query: new URLSearchParams(search),
      pathName: routed.name,
    };
  }
  let service: Service = 'unknown';
  if (prefix === 'AmazonSQS') service = 'sqs';
  else if (prefix?.startsWith('DynamoDBStreams_')) service = 'streams';
  else if (prefix?.startsWith('DynamoDB_')) service = 'dynamodb';
  else if (prefix === 'AmazonSSM') service = 'ssm';
  else if (!target && query.get('Action')) service = signed?.[2] === 'sqs' ? 'sqs' : 'sns';
  return {
    service,
    operation: operation || query.get('Action') || '',
    accessKeyId: signed?.[1],
    json,
    query,
  };
}

/** SQS batch operations are authorized as their single-message action. */
const SQS_ACTION: Record<string, string> = {
  SendMessageBatch: 'SendMessage',
  DeleteMessageBatch: 'DeleteMessage',
  ChangeMessageVisibilityBatch: 'ChangeMessageVisibility',
};

const TRANSACT_ACTION: Record<string, string> = {
  Put: 'PutItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  ConditionCheck: 'ConditionCheckItem',
  Get: 'GetItem',
};

export interface ResourceNames {
  readonly region: string;
  readonly accountId: string;
  /** Stream ARN a shard iterator was issued for (iterators are opaque). */
  streamOfIterator(iterator: string): string | undefined;
}

/** The actions and resources a request needs, as IAM evaluates them. */
export function requiredActions(request: ParsedRequest, names: ResourceNames): ActionCheck[] {
  const { region, accountId } = names;
  const table = (name: unknown) =>
    canonicalArn(
      String(name).startsWith('arn:')
        ? String(name)
        : `arn:aws:dynamodb:${region}:${accountId}:table/${String(name)}`,
      region,
    );
  const op = request.operation;
  switch (request.service) {
    case 'sqs': {
      const url = String(request.json.QueueUrl ?? request.query.get('QueueUrl') ?? '');
      const queueName = String(request.json.QueueName ?? request.query.get('QueueName') ?? '');
      const resource = url
        ? queueArnFromUrl(url, region, accountId)
        : queueName
          ? `arn:aws:sqs:${region}:${accountId}:${queueName}`
          : '*';
      return [{ action: `sqs:${SQS_ACTION[op] ?? op}`, resource }];
    }
    case 'sns': {
      const arn =
        request.query.get('TopicArn') ??
        request.query.get('TargetArn') ??
        request.query.get('SubscriptionArn');
      const topic = arn ? arn.split(':').slice(0, 6).join(':') : '*';
      return [{ action: `sns:${op === 'PublishBatch' ? 'Publish' : op}`, resource: topic }];
    }
    case 'dynamodb': {
      const json = request.json;
      if (op === 'BatchWriteItem' || op === 'BatchGetItem') {
        return Object.keys((json.RequestItems ?? {}) as object).map((t) => ({
          action: `dynamodb:${op}`,
          resource: table(t),
        }));
      }
      if (op === 'TransactWriteItems' || op === 'TransactGetItems') {
        const checks: ActionCheck[] = [];
        for (const item of (json.TransactItems ?? []) as Record<string, { TableName?: string }>[]) {
          for (const [kind, detail] of Object.entries(item))
            checks.push({
              action: `dynamodb:${TRANSACT_ACTION[kind] ?? kind}`,
              resource: table(detail.TableName),
            });
        }
        return checks;
      }
      if (json.TableName === undefined) return [{ action: `dynamodb:${op}`, resource: '*' }];
      const base = table(json.TableName);
      const resource = typeof json.IndexName === 'string' ? `${base}/index/${json.IndexName}` : base;
      return [{ action: `dynamodb:${op}`, resource }];
    }
    case 'streams': {
      const json = request.json;
      if (op === 'ListStreams') return [{ action: 'dynamodb:ListStreams', resource: '*' }];
      const stream =
        typeof json.StreamArn === 'string'
          ? json.StreamArn
          : typeof json.ShardIterator === 'string'
            ? names.streamOfIterator(json.ShardIterator)
            : undefined;
      return [{ action: `dynamodb:${op}`, resource: stream ? canonicalArn(stream, region) : '*' }];
    }
    case 'ssm': {
      const json = request.json;
      const parameterArn = (name: unknown) =>
        `arn:aws:ssm:${region}:${accountId}:parameter/${String(name).replace(/^\//, '')}`;
      if (op === 'GetParameters') {
        return ((json.Names ?? []) as string[]).map((n) => ({
          action: 'ssm:GetParameters',
          resource: parameterArn(n),
        }));
      }
      if (op === 'GetParametersByPath')
        return [{ action: 'ssm:GetParametersByPath', resource: parameterArn(json.Path) }];
      if (json.Name !== undefined) return [{ action: `ssm:${op}`, resource: parameterArn(json.Name) }];
      return [{ action: `ssm:${op}`, resource: '*' }];
    }
    case 'scheduler': {
      const group = String(request.json.GroupName ?? request.query.get('groupName') ?? 'default');
      const scheduleArn = `arn:aws:scheduler:${region}:${accountId}:schedule/${group}/${request.pathName ?? ''}`;
      if (op === 'CreateSchedule' || op === 'UpdateSchedule') {
        const target = (request.json.Target ?? {}) as { RoleArn?: string };
        // Handing Scheduler a role is iam:PassRole on that role, checked with the schedule call.
        return [
          { action: `scheduler:${op}`, resource: scheduleArn },
          { action: 'iam:PassRole', resource: String(target.RoleArn ?? '*') },
        ];
      }
      if (op === 'ListSchedules' || op === 'ListScheduleGroups')
        return [{ action: `scheduler:${op}`, resource: '*' }];
      if (op.endsWith('ScheduleGroup'))
        return [
          {
            action: `scheduler:${op}`,
            resource: `arn:aws:scheduler:${region}:${accountId}:schedule-group/${request.pathName ?? ''}`,
          },
        ];
      return [{ action: `scheduler:${op}`, resource: scheduleArn }];
    }
    default:
      return [];
  }
}
