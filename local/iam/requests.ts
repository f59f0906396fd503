/**
 * Reads an AWS API request as the gateway receives it (SigV4 header, JSON or query body) and
 * says who calls, which IAM actions on which resources it needs, and which of its resources are
 * encrypted with a customer-managed key.
 */

import { schedulerOperation } from '../scheduler/scheduler-api';
import { MOVE_TASK_OPERATIONS, sourceOfTaskHandle } from '../sqs/message-move-tasks';
import { canonicalArn } from './policy-document';
import { queueArnFromUrl } from './security-model';

export type Service = 'sqs' | 'sns' | 'dynamodb' | 'streams' | 'ssm' | 's3' | 'scheduler' | 'unknown';

export interface ParsedRequest {
  readonly service: Service;
  /** API operation, e.g. `SendMessage`. */
  readonly operation: string;
  /** Access key id from the SigV4 Authorization header. */
  readonly accessKeyId?: string;
  /** JSON body (JSON protocols) or the query parameters (query protocol). */
  readonly json: Record<string, unknown>;
  readonly query: URLSearchParams;
  /** S3 requests: the bucket and object key, from the path (path-style) or the Host (virtual-hosted). */
  readonly s3?: {
    readonly bucket: string;
    readonly key: string;
    readonly copySource?: string;
    /** DeleteObjects: the keys its XML body names. */
    readonly deleteKeys?: readonly string[];
  };
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
  // S3 is REST: the operation is the method on a bucket or object path, the body is the object.
  if (signed?.[2] === 's3') return parseS3Request(headers, signed[1], method, url, body);
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

/** `<bucket>.s3.<host>` or `<bucket>.localhost` (virtual-hosted style); undefined for an IP or plain host. */
function virtualHostedBucket(host: string): string | undefined {
  const name = host.replace(/:\d+$/, '');
  if (/^[\d.]+$/.test(name) || !name.includes('.')) return undefined;
  const match = /^(.+?)\.(s3[.-]|localhost$)/.exec(name);
  return match?.[1];
}

function parseS3Request(
  headers: Record<string, string | string[] | undefined>,
  accessKeyId: string | undefined,
  method: string,
  url: string,
  body: string,
): ParsedRequest {
  const parsed = new URL(url, 'http://gateway');
  const segments = parsed.pathname.split('/').slice(1);
  const hosted = virtualHostedBucket(String(headers.host ?? ''));
  const bucket = hosted ?? decodeURIComponent(segments.shift() ?? '');
  const key = (hosted ? segments : segments).map(decodeURIComponent).join('/');
  const query = parsed.searchParams;
  let operation: string;
  if (key) {
    operation =
      method === 'PUT'
        ? query.has('partNumber')
          ? 'UploadPart'
          : headers['x-amz-copy-source']
            ? 'CopyObject'
            : 'PutObject'
        : method === 'GET'
          ? 'GetObject'
          : method === 'HEAD'
            ? 'HeadObject'
            : method === 'DELETE'
              ? 'DeleteObject'
              : 'PostObject';
  } else if (bucket) {
    operation =
      method === 'PUT'
        ? 'CreateBucket'
        : method === 'GET'
          ? 'ListObjects'
          : method === 'HEAD'
            ? 'HeadBucket'
            : method === 'DELETE'
              ? 'DeleteBucket'
              : query.has('delete')
                ? 'DeleteObjects'
                : 'PostBucket';
  } else operation = 'ListBuckets';
  // CopyObject and UploadPartCopy read `bucket/key` (URL-encoded, maybe with ?versionId=) from the header.
  const copyHeader = headers['x-amz-copy-source'];
  const copySource = copyHeader
    ? decodeURIComponent(String(copyHeader).split('?')[0]!.replace(/^\//, ''))
    : undefined;
  const deleteKeys =
    operation === 'DeleteObjects'
      ? [...body.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => xmlText(m[1]!))
      : undefined;
  return {
    service: 's3',
    operation,
    accessKeyId,
    json: {},
    query,
    s3: { bucket, key, copySource, deleteKeys },
  };
}

/** The text of an XML element (S3 escapes &, <, >, quotes in keys). */
function xmlText(escaped: string): string {
  return escaped.replace(
    /&(amp|lt|gt|quot|apos);/g,
    (_, entity: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" })[entity] ?? '',
  );
}

/** The IAM action of an S3 operation, and whether it applies to an object (else to the bucket). */
const S3_ACTION: Record<string, { action: string; object: boolean }> = {
  PutObject: { action: 's3:PutObject', object: true },
  UploadPart: { action: 's3:PutObject', object: true },
  CopyObject: { action: 's3:PutObject', object: true },
  PostObject: { action: 's3:PutObject', object: true },
  GetObject: { action: 's3:GetObject', object: true },
  // HeadObject is authorized as GetObject, as in AWS.
  HeadObject: { action: 's3:GetObject', object: true },
  DeleteObject: { action: 's3:DeleteObject', object: true },
  CreateBucket: { action: 's3:CreateBucket', object: false },
  ListObjects: { action: 's3:ListBucket', object: false },
  HeadBucket: { action: 's3:ListBucket', object: false },
  DeleteBucket: { action: 's3:DeleteBucket', object: false },
  DeleteObjects: { action: 's3:DeleteObject', object: false },
  PostBucket: { action: 's3:PutObject', object: false },
};

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
      if (MOVE_TASK_OPERATIONS.has(op)) return moveTaskActions(request);
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
    case 's3': {
      const target = request.s3 ?? { bucket: '', key: '' };
      if (op === 'ListBuckets') return [{ action: 's3:ListAllMyBuckets', resource: '*' }];
      // A multi-object delete is authorized as s3:DeleteObject on each key it names, as in AWS.
      if (op === 'DeleteObjects' && target.deleteKeys?.length)
        return target.deleteKeys.map((key) => ({
          action: 's3:DeleteObject',
          resource: `arn:aws:s3:::${target.bucket}/${key}`,
        }));
      const known = S3_ACTION[op] ?? { action: `s3:${op}`, object: false };
      const resource = known.object
        ? `arn:aws:s3:::${target.bucket}/${target.key}`
        : `arn:aws:s3:::${target.bucket}${op === 'DeleteObjects' ? '/*' : ''}`;
      // A copy reads its source object, which needs s3:GetObject there, as in AWS.
      const read =
        known.object && target.copySource
          ? [{ action: 's3:GetObject', resource: `arn:aws:s3:::${target.copySource}` }]
          : [];
      return [{ action: known.action, resource }, ...read];
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

/**
 * A message move task acts on the DLQ (the source) with the caller's permissions: the operation
 * itself plus receiving, deleting and reading the DLQ's attributes, and sending to an explicit
 * destination. Without a destination the task sends to the DLQ's source queue, which is not known
 * before the task looks it up, so that send is not checked.
 */
function moveTaskActions(request: ParsedRequest): ActionCheck[] {
  const json = request.json;
  const source =
    typeof json.SourceArn === 'string'
      ? json.SourceArn
      : typeof json.TaskHandle === 'string'
        ? sourceOfTaskHandle(json.TaskHandle)
        : undefined;
  const resource = source ?? '*';
  const checks: ActionCheck[] = [
    `sqs:${request.operation}`,
    'sqs:ReceiveMessage',
    'sqs:DeleteMessage',
    'sqs:GetQueueAttributes',
  ].map((action) => ({ action, resource }));
  if (request.operation === 'StartMessageMoveTask' && typeof json.DestinationArn === 'string')
    checks.push({ action: 'sqs:SendMessage', resource: json.DestinationArn });
  return checks;
}
