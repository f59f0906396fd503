/**
 * The authorizing gateway in front of the emulators, on 127.0.0.1: every SDK call of the local
 * cloud goes through it. It reads the SigV4 access key to know the caller, authorizes the action
 * on the resource (and the KMS permissions an encrypted queue or topic needs) from the template's
 * policies, enforces the AWS limits the emulators do not, answers SSM itself, and forwards the
 * rest unchanged to fauxqs or DynamoDB Local. Denials come back in the service's own error shape.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { freePort, LOOPBACK } from '../ports';
import type { LocalScheduler } from '../scheduler/local-scheduler';
import { answerScheduler } from '../scheduler/scheduler-api';
import { type MessageMoveTasks, MOVE_TASK_OPERATIONS } from '../sqs/message-move-tasks';
import type { MemoryParameterStore } from '../ssm/parameter-store';
import { answerSsm } from '../ssm/ssm-api';
import { type AuthorizationRequest, Authorizer, type Decision } from './authorizer';
import { accessDenied, type ServiceError, wireError } from './aws-errors';
import type { CredentialRegistry, FunctionIdentity } from './credentials';
import { checkLimits } from './limits';
import type { Caller } from './policy-document';
import { type ActionCheck, type ParsedRequest, parseRequest, requiredActions } from './requests';
import { queueArnFromUrl, type SecurityModel } from './security-model';
import { repairStreamRecords } from './stream-record-repair';
import { type GatewayCall, type GatewayReply, HttpUpstream } from './upstream';

export interface Denial {
  /** Who was denied: a role session ARN, or a service principal (`sns.amazonaws.com`). */
  readonly principal: string;
  readonly action: string;
  readonly resource: string;
  /** AWS's message: `User: ... is not authorized to perform: ... on resource: ... because ...`. */
  readonly message: string;
  /** Times this same denial happened. */
  count: number;
}

export interface GatewayOptions {
  readonly upstream: { readonly snsSqs: string; readonly dynamodb: string };
  readonly region: string;
  readonly model: SecurityModel;
  readonly credentials: CredentialRegistry;
  /** Enforce IAM (false with `--no-iam`); limits and SSM apply either way. */
  readonly enforce: boolean;
  /** Local SSM parameters; undefined forwards SSM calls to the snsSqs upstream. */
  readonly ssm?: MemoryParameterStore;
  /** The local EventBridge Scheduler; undefined forwards Scheduler calls to the snsSqs upstream. */
  readonly scheduler?: LocalScheduler;
  readonly onUnsupported: (message: string) => void;
  /** Called on the first occurrence of each denial. */
  readonly onDenial?: (denial: Denial) => void;
  /** Answers SQS's message move task operations (the emulators have none). */
  readonly moveTasks?: MessageMoveTasks;
}

/** Shard iterators remembered per gateway (each maps to its stream ARN for authorization). */
const MAX_REMEMBERED_ITERATORS = 50_000;
export class AuthorizingGateway {
  readonly denials = new Map<string, Denial>();
  private readonly authorizer: Authorizer;
  private readonly iteratorStreams = new Map<string, string>();
  private readonly decisions = new Map<string, Decision>();
  private server?: Server;
  private readonly dynamodb: HttpUpstream;
  private readonly snsSqs: HttpUpstream;
  endpoint = '';

  constructor(private readonly options: GatewayOptions) {
    this.authorizer = new Authorizer(options.onUnsupported);
    this.dynamodb = new HttpUpstream(options.upstream.dynamodb);
    this.snsSqs = new HttpUpstream(options.upstream.snsSqs);
  }

  async start(): Promise<string> {
    const port = await freePort();
    this.server = createServer((req, res) => {
      this.serve(req, res).catch((error: Error) => {
        if (res.headersSent || res.destroyed) return;
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`Switchyard gateway error: ${error.message}`);
      });
    });
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => this.server!.listen(port, LOOPBACK, resolve));
    this.endpoint = `http://${LOOPBACK}:${port}`;
    return this.endpoint;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    this.dynamodb.close();
    this.snsSqs.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /**
   * Authorizes one action for a caller (also used for SNS's own deliveries). Records and returns
   * the denial, or undefined when allowed.
   */
  authorize(
    caller: Caller,
    check: ActionCheck,
    extraContext: Record<string, string> = {},
  ): Denial | undefined {
    const context = new Map<string, string>([
      // Every local call travels over loopback, which the local cloud treats as secure transport.
      ['aws:securetransport', 'true'],
      ['aws:sourceaccount', this.options.model.accountId],
      ...(caller.kind === 'role' ? ([['aws:principalarn', caller.roleArn]] as [string, string][]) : []),
      ...Object.entries(extraContext),
    ]);
    const roleArn = caller.kind === 'role' ? caller.roleArn : undefined;
    const request: AuthorizationRequest = { caller, action: check.action, resource: check.resource, context };
    // Policies do not change after deployment, so one decision per caller, action, resource and context holds.
    const cacheKey = `${caller.kind === 'role' ? caller.sessionArn : caller.service}\0${check.action}\0${check.resource}\0${[...context].join('\0')}`;
    let decision = this.decisions.get(cacheKey);
    if (!decision) {
      decision = this.authorizer.decide(request, this.options.model.policiesFor(roleArn, check.resource));
      this.decisions.set(cacheKey, decision);
    }
    if (decision.allowed) return undefined;
    const principal = caller.kind === 'role' ? caller.sessionArn : caller.service;
    const message = `User: ${principal} is not authorized to perform: ${check.action} on resource: ${check.resource} ${decision.reason}`;
    const key = `${principal} ${check.action} ${check.resource}`;
    const existing = this.denials.get(key);
    if (existing) {
      existing.count += 1;
      return existing;
    }
    const denial: Denial = { principal, action: check.action, resource: check.resource, message, count: 1 };
    this.denials.set(key, denial);
    this.options.onDenial?.(denial);
    return denial;
  }

  /** The HTTP side: one request in, its answer out; a caller that goes aborts the call upstream. */
  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const gone = new AbortController();
    // The client's side closing ('end') comes before the response's 'close'; either means gone.
    const onGone = () => {
      if (!res.writableFinished) gone.abort();
    };
    const socket = req.socket;
    socket.once('end', onGone);
    res.once('close', onGone);
    try {
      const reply = await this.dispatch({
        method: req.method ?? 'POST',
        url: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks),
        signal: gone.signal,
      });
      if (gone.signal.aborted) return;
      res.writeHead(reply.status, reply.headers);
      res.end(reply.body);
    } catch (error) {
      if (gone.signal.aborted) return;
      throw error;
    } finally {
      socket.off('end', onGone);
    }
  }

  /** Authorizes, answers or forwards one call. */
  private async dispatch(call: GatewayCall): Promise<GatewayReply> {
    let body = call.body;
    const parsed = parseRequest(call.headers, body.toString('utf8'), call.method, call.url);
    const identity = this.options.credentials.identityOf(parsed.accessKeyId);
    if (identity && this.options.enforce) {
      const denied = this.firstDenial(parsed, identity);
      if (denied) return errorReply(parsed, denied);
    }
    if (parsed.service === 'sqs' && MOVE_TASK_OPERATIONS.has(parsed.operation) && this.options.moveTasks) {
      const answer = await this.options.moveTasks.answer(parsed.operation, parsed.json);
      if (!answer.ok) return errorReply(parsed, answer.error);
      return jsonReply(answer.body, 'application/x-amz-json-1.0');
    }
    const limits = checkLimits(parsed, this.options.model, this.options.region);
    if (limits.kind === 'reject') return errorReply(parsed, limits.error);
    if (limits.kind === 'partial') body = Buffer.from(limits.keptBody, 'utf8');
    if (parsed.service === 'ssm' && this.options.ssm) {
      const answer = await answerSsm(
        parsed.operation,
        parsed.json,
        this.options.ssm,
        this.options.region,
        this.options.model.accountId,
      );
      if (!answer.ok) return errorReply(parsed, answer.error);
      return jsonReply(answer.body, 'application/x-amz-json-1.1');
    }
    if (parsed.service === 'scheduler' && this.options.scheduler) {
      const answer = answerScheduler(
        this.options.scheduler,
        { operation: parsed.operation, name: parsed.pathName },
        parsed.query,
        parsed.json,
      );
      if (!answer.ok) return errorReply(parsed, answer.error);
      return jsonReply(answer.body, 'application/json');
    }
    const upstream =
      parsed.service === 'dynamodb' || parsed.service === 'streams' ? this.dynamodb : this.snsSqs;
    const reply = await upstream.send({ ...call, body });
    let responseBody = reply.body;
    if (parsed.service === 'streams') this.rememberIterators(parsed, responseBody);
    if (parsed.service === 'streams' && parsed.operation === 'GetRecords' && reply.status === 200)
      responseBody = repairStreamRecords(responseBody);
    if (limits.kind === 'partial' && reply.status === 200) {
      const merged = JSON.parse(responseBody.toString('utf8') || '{}') as {
        Successful?: unknown[];
        Failed?: unknown[];
      };
      merged.Failed = [...(merged.Failed ?? []), ...limits.failed];
      responseBody = Buffer.from(JSON.stringify(merged), 'utf8');
    }
    const headers: Record<string, string | string[] | undefined> = {
      ...reply.headers,
      'content-length': String(responseBody.length),
    };
    delete headers['transfer-encoding'];
    return { status: reply.status, headers, body: responseBody };
  }

  private firstDenial(parsed: ParsedRequest, identity: FunctionIdentity): ServiceError | undefined {
    const caller = this.options.credentials.callerOf(identity);
    const names = {
      region: this.options.region,
      accountId: this.options.model.accountId,
      streamOfIterator: (iterator: string) => this.iteratorStreams.get(iterator),
    };
    for (const check of requiredActions(parsed, names)) {
      const denial = this.authorize(caller, check);
      if (denial) return accessDenied(parsed.service, denial.message, false);
    }
    for (const { check, via } of this.kmsChecks(parsed)) {
      const denial = this.authorize(caller, check, {
        'kms:viaservice': `${via}.${this.options.region}.amazonaws.com`,
      });
      if (denial) return accessDenied(parsed.service, denial.message, true);
    }
    return undefined;
  }

  /** The KMS permissions AWS checks for a customer-managed key on the queue or topic. */
  private kmsChecks(parsed: ParsedRequest): { check: ActionCheck; via: string }[] {
    const model = this.options.model;
    if (parsed.service === 'sqs') {
      const url = String(parsed.json.QueueUrl ?? '');
      const key = model.queues.get(queueArnFromUrl(url, this.options.region, model.accountId))?.kmsKeyArn;
      const keyArn = key ? (model.keyArn(key) ?? key) : undefined;
      if (!keyArn) return [];
      if (parsed.operation === 'SendMessage' || parsed.operation === 'SendMessageBatch')
        return [{ check: { action: 'kms:GenerateDataKey', resource: keyArn }, via: 'sqs' }];
      if (parsed.operation === 'ReceiveMessage')
        return [{ check: { action: 'kms:Decrypt', resource: keyArn }, via: 'sqs' }];
      return [];
    }
    if (parsed.service === 's3' && parsed.s3) {
      // SSE-KMS: S3 asks KMS for a data key on write and to decrypt it on read, as the caller.
      const key = model.bucketKeys.get(parsed.s3.bucket);
      const keyArn = key ? (model.keyArn(key) ?? key) : undefined;
      if (!keyArn) return [];
      if (parsed.operation === 'PutObject' || parsed.operation === 'UploadPart')
        return [{ check: { action: 'kms:GenerateDataKey', resource: keyArn }, via: 's3' }];
      if (parsed.operation === 'GetObject' || parsed.operation === 'HeadObject')
        return [{ check: { action: 'kms:Decrypt', resource: keyArn }, via: 's3' }];
      return [];
    }
    if (parsed.service === 'sns' && (parsed.operation === 'Publish' || parsed.operation === 'PublishBatch')) {
      const topicArn = parsed.query.get('TopicArn') ?? parsed.query.get('TargetArn') ?? '';
      const key = model.topics.get(topicArn)?.kmsKeyArn;
      const keyArn = key ? (model.keyArn(key) ?? key) : undefined;
      if (!keyArn) return [];
      return ['kms:GenerateDataKey', 'kms:Decrypt'].map((action) => ({
        check: { action, resource: keyArn },
        via: 'sns',
      }));
    }
    return [];
  }

  private rememberIterators(parsed: ParsedRequest, body: Buffer): void {
    if (parsed.operation !== 'GetShardIterator' && parsed.operation !== 'GetRecords') return;
    let out: { ShardIterator?: string; NextShardIterator?: string };
    try {
      out = JSON.parse(body.toString('utf8')) as typeof out;
    } catch {
      return;
    }
    const stream =
      parsed.operation === 'GetShardIterator'
        ? String(parsed.json.StreamArn ?? '')
        : this.iteratorStreams.get(String(parsed.json.ShardIterator ?? ''));
    // A used iterator stays known: when a GetRecords response is lost, the SDK retries with the same
    // iterator, and forgetting it would deny the retry. The oldest entries go once the map is large.
    const next = out.ShardIterator ?? out.NextShardIterator;
    if (stream && next) {
      this.iteratorStreams.set(next, stream);
      while (this.iteratorStreams.size > MAX_REMEMBERED_ITERATORS) {
        const oldest = this.iteratorStreams.keys().next().value;
        if (oldest === undefined) break;
        this.iteratorStreams.delete(oldest);
      }
    }
  }
}

function errorReply(parsed: ParsedRequest, error: ServiceError): GatewayReply {
  const wire = wireError(parsed.service, error);
  const body = Buffer.from(wire.body, 'utf8');
  return { status: wire.status, headers: { ...wire.headers, 'content-length': String(body.length) }, body };
}

function jsonReply(value: unknown, contentType: string): GatewayReply {
  const body = Buffer.from(JSON.stringify(value), 'utf8');
  return {
    status: 200,
    headers: { 'content-type': contentType, 'content-length': String(body.length) },
    body,
  };
}
