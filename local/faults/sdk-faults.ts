/**
 * The SDK-level fault injector: two middlewares added to a client's own stack.
 *
 * - `chaosSdkFaults` sits in the deserialize step at low priority, the bottom of the stack, just
 *   above the HTTP handler: below the SDK's retry strategy, which therefore runs for real. It throws
 *   the real exception classes of the client packages (their own `$fault`, as the SDK's
 *   deserializer would build them), resets the connection before the request goes out, or lets it
 *   apply and then drops the response and resets, so the SDK retries a request that already
 *   happened.
 * - `chaosPartialBatch` sits in the initialize step: it removes a few entries from a
 *   PublishBatch / SendMessageBatch before it is sent and reports them in `Failed`, as SNS and SQS
 *   do for entries they did not accept (an HTTP 200 that the retry strategy never sees).
 */
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type * as DynamoDb from '@aws-sdk/client-dynamodb';
import type * as Streams from '@aws-sdk/client-dynamodb-streams';
import type * as Sns from '@aws-sdk/client-sns';
import type * as Sqs from '@aws-sdk/client-sqs';
import type { FaultCounters } from './counters';
import { type FaultKind, FaultKinds, Tallies } from './kinds';
import type { FaultRates } from './rates';

export type Service = 'sns' | 'sqs' | 'dynamodb' | 'streams';

export interface SdkFaultOptions {
  readonly random: () => number;
  readonly counters: FaultCounters;
  readonly rates: FaultRates;
  /** Runs after a write was applied and its response received (the worker may die here). */
  readonly afterApplied?: (service: Service, operation: string) => void;
}

/** A client as far as the injector needs it: its middleware stack. */
export interface StackOwner {
  // biome-ignore lint/suspicious/noExplicitAny: the SDK's stacks are generic per client
  readonly middlewareStack: { add(middleware: any, options: Record<string, unknown>): void };
}

/** Operations whose request changes state: the ones a lost response or a crash can duplicate. */
const WRITES = new Set([
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'TransactWriteItems',
  'BatchWriteItem',
  'SendMessage',
  'SendMessageBatch',
  'Publish',
  'PublishBatch',
  'DeleteMessage',
  'DeleteMessageBatch',
]);

export const isWrite = (operation: string): boolean => WRITES.has(operation);
export const isPublish = (operation: string): boolean => /^(Publish|SendMessage)(Batch)?$/.test(operation);

/** The exception classes are loaded on first use: a worker loads only the clients its function uses. */
const packages = {
  sns: () => require('@aws-sdk/client-sns') as typeof Sns,
  sqs: () => require('@aws-sdk/client-sqs') as typeof Sqs,
  dynamodb: () => require('@aws-sdk/client-dynamodb') as typeof DynamoDb,
  streams: () => require('@aws-sdk/client-dynamodb-streams') as typeof Streams,
};

export function serviceOf(clientName: string | undefined): Service | undefined {
  if (!clientName) return undefined;
  if (/DynamoDBStreams/.test(clientName)) return 'streams';
  if (/DynamoDB/.test(clientName)) return 'dynamodb';
  if (/^SNS/.test(clientName)) return 'sns';
  if (/^SQS/.test(clientName)) return 'sqs';
  return undefined;
}

/**
 * The faults that can hit one request attempt of this operation, by family: a throttle of the
 * service, a 5xx, a connection reset. Each family is equally likely; within one, each kind is.
 */
export function candidateFaults(service: Service, operation: string): FaultKind[][] {
  const throttles: FaultKind[] = [];
  if (service === 'sns') {
    throttles.push(FaultKinds.SNS_THROTTLED);
    if (operation.startsWith('Publish')) throttles.push(FaultKinds.SNS_KMS_THROTTLED);
  } else if (service === 'sqs') {
    throttles.push(FaultKinds.SQS_THROTTLED);
    if (operation.startsWith('SendMessage')) throttles.push(FaultKinds.SQS_KMS_THROTTLED);
  } else if (service === 'dynamodb') {
    throttles.push(FaultKinds.DYNAMODB_THROUGHPUT_EXCEEDED, FaultKinds.DYNAMODB_THROTTLING);
  }
  const families: FaultKind[][] = [
    [FaultKinds.INTERNAL_ERROR, FaultKinds.SERVICE_UNAVAILABLE],
    [FaultKinds.RESET_BEFORE_APPLIED, FaultKinds.RESET_AFTER_APPLIED],
  ];
  return throttles.length ? [throttles, ...families] : families;
}

function metadata(httpStatusCode: number) {
  return { httpStatusCode, requestId: randomUUID(), attempts: 1, totalRetryDelay: 0 };
}

/** The service's own "unmodelled error" exception, as its deserializer builds it for an unknown code. */
function unmodelled(service: Service, name: string, httpStatusCode: number, message: string): Error {
  const options = { name, $fault: 'server' as const, message, $metadata: metadata(httpStatusCode) };
  switch (service) {
    case 'sns':
      return new (packages.sns().SNSServiceException)(options);
    case 'sqs':
      return new (packages.sqs().SQSServiceException)(options);
    case 'dynamodb':
      return new (packages.dynamodb().DynamoDBServiceException)(options);
    case 'streams':
      return new (packages.streams().DynamoDBStreamsServiceException)(options);
  }
}

function internalError(service: Service): Error {
  const message = 'We encountered an internal error. Please try again.';
  switch (service) {
    case 'sns':
      return new (packages.sns().InternalErrorException)({ message, $metadata: metadata(500) });
    case 'dynamodb':
      return new (packages.dynamodb().InternalServerError)({ message, $metadata: metadata(500) });
    case 'streams':
      return new (packages.streams().InternalServerError)({ message, $metadata: metadata(500) });
    case 'sqs':
      // SQS models no internal error: the SDK builds its base exception from the code.
      return unmodelled('sqs', 'InternalError', 500, message);
  }
}

/** A socket error as Node's HTTP client raises it (the SDK classifies ECONNRESET as transient). */
function connectionReset(afterApplied: boolean): Error {
  const error = new Error(afterApplied ? 'socket hang up' : 'read ECONNRESET') as Error & {
    code: string;
    syscall?: string;
  };
  error.code = 'ECONNRESET';
  if (!afterApplied) error.syscall = 'read';
  return error;
}

function transactionConflict(input: { TransactItems?: unknown[] }): Error {
  const count = Math.max(1, input.TransactItems?.length ?? 1);
  const reasons = Array.from({ length: count }, (_, i) =>
    i === 0
      ? { Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' }
      : { Code: 'None' },
  );
  const { TransactionCanceledException } = packages.dynamodb();
  return new TransactionCanceledException({
    message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
    CancellationReasons: reasons,
    $metadata: metadata(400),
  });
}

/** The exception a fault throws (connection resets are handled by the middleware itself). */
export function faultError(kind: FaultKind, service: Service, input: Record<string, unknown>): Error {
  switch (kind) {
    case FaultKinds.SNS_THROTTLED:
      return new (packages.sns().ThrottledException)({ message: 'Rate exceeded', $metadata: metadata(429) });
    case FaultKinds.SNS_KMS_THROTTLED:
      return new (packages.sns().KMSThrottlingException)({
        message:
          'The request was denied due to request throttling. (Service: AWSKMS; Status Code: 400; Error Code: ThrottlingException)',
        $metadata: metadata(400),
      });
    case FaultKinds.SQS_THROTTLED:
      return new (packages.sqs().RequestThrottled)({
        message: 'Request is throttled.',
        $metadata: metadata(400),
      });
    case FaultKinds.SQS_KMS_THROTTLED:
      return new (packages.sqs().KmsThrottled)({
        message: 'The request was denied due to request throttling by AWS KMS.',
        $metadata: metadata(400),
      });
    case FaultKinds.DYNAMODB_THROUGHPUT_EXCEEDED:
      return new (packages.dynamodb().ProvisionedThroughputExceededException)({
        message:
          'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
        $metadata: metadata(400),
      });
    case FaultKinds.DYNAMODB_THROTTLING:
      return new (packages.dynamodb().ThrottlingException)({
        message: 'Throughput exceeds the current capacity of your table or index.',
        $metadata: metadata(400),
      });
    case FaultKinds.INTERNAL_ERROR:
      return internalError(service);
    case FaultKinds.SERVICE_UNAVAILABLE:
      return unmodelled(service, 'ServiceUnavailable', 503, 'Service Unavailable');
    case FaultKinds.TRANSACTION_CONFLICT:
      return transactionConflict(input as { TransactItems?: unknown[] });
    case FaultKinds.RESET_BEFORE_APPLIED:
      return connectionReset(false);
    case FaultKinds.RESET_AFTER_APPLIED:
      return connectionReset(true);
    default:
      throw new Error(`${kind} is not an SDK request fault`);
  }
}

interface MiddlewareContext {
  clientName?: string;
  commandName?: string;
}

type Next = (args: { input: Record<string, unknown>; request?: unknown }) => Promise<{
  output: Record<string, unknown>;
  response?: unknown;
}>;

/** A family (throttle, 5xx, reset), then a kind of it, at random. */
function pickFault(families: FaultKind[][], random: () => number): FaultKind {
  const family = families[Math.floor(random() * families.length)] as FaultKind[];
  return family[Math.floor(random() * family.length)] as FaultKind;
}

/** With ensureEachKind: the first of these kinds not injected yet in the run. */
export function firstMissing(kinds: readonly FaultKind[], options: SdkFaultOptions): FaultKind | undefined {
  if (!options.rates.ensureEachKind) return undefined;
  return kinds.find((kind) => options.counters.get(kind) === 0);
}

const operationOf = (context: MiddlewareContext) => (context.commandName ?? '').replace(/Command$/, '');

/** The bottom middleware: one decision per request attempt, below the retry strategy. */
function requestFaults(options: SdkFaultOptions) {
  return (next: Next, context: MiddlewareContext) =>
    async (args: { input: Record<string, unknown>; request?: unknown }) => {
      const service = serviceOf(context.clientName);
      const operation = operationOf(context);
      if (!service) return next(args);
      options.counters.add(Tallies.SDK_CALLS);
      if (operation === 'TransactWriteItems') {
        const conflict = options.random() < options.rates.transactionConflict;
        if (conflict || firstMissing([FaultKinds.TRANSACTION_CONFLICT], options)) {
          options.counters.add(FaultKinds.TRANSACTION_CONFLICT);
          throw faultError(FaultKinds.TRANSACTION_CONFLICT, service, args.input);
        }
      }
      const families = candidateFaults(service, operation);
      const draw = options.random();
      const missing = firstMissing(families.flat(), options);
      if (draw < options.rates.sdkCall || missing) {
        const kind = missing ?? pickFault(families, options.random);
        options.counters.add(kind);
        if (kind === FaultKinds.RESET_AFTER_APPLIED) {
          const result = await next(args);
          // The service applied the request; its response never reaches the caller.
          (result.response as { body?: Readable } | undefined)?.body?.resume?.();
          throw faultError(kind, service, args.input);
        }
        throw faultError(kind, service, args.input);
      }
      const result = await next(args);
      if (isWrite(operation)) options.afterApplied?.(service, operation);
      return result;
    };
}

const BATCH_ENTRIES: Record<string, string> = {
  PublishBatch: 'PublishBatchRequestEntries',
  SendMessageBatch: 'Entries',
};

/** Drops a few entries of a batch before it is sent and reports them failed, as the services do. */
function partialBatchFaults(options: SdkFaultOptions) {
  return (next: Next, context: MiddlewareContext) => async (args: { input: Record<string, unknown> }) => {
    const field = BATCH_ENTRIES[operationOf(context)];
    const entries = field ? (args.input[field] as { Id?: string }[] | undefined) : undefined;
    // One-entry batches count too: FIFO publishers send one entry per group, so small runs see many.
    if (!field || !Array.isArray(entries) || entries.length === 0) return next(args);
    if (options.random() >= options.rates.partialBatch) return next(args);
    options.counters.add(FaultKinds.PARTIAL_BATCH_FAILURE);
    const failing = new Set<number>();
    const count = 1 + Math.floor(options.random() * Math.min(3, entries.length - 1));
    while (failing.size < count) failing.add(Math.floor(options.random() * entries.length));
    const kept = entries.filter((_, i) => !failing.has(i));
    // Every entry failed: the service answers 200 with all of them in Failed (an empty batch is invalid).
    const result =
      kept.length > 0
        ? await next({ ...args, input: { ...args.input, [field]: kept } })
        : {
            output: { $metadata: { httpStatusCode: 200 }, Successful: [] } as Record<string, unknown>,
            response: {},
          };
    const failed = entries
      .filter((_, i) => failing.has(i))
      .map((entry) => ({
        Id: entry.Id,
        Code: 'InternalError',
        Message: 'The service could not accept this entry; retry it.',
        SenderFault: false,
      }));
    const already = (result.output.Failed as unknown[] | undefined) ?? [];
    result.output.Failed = [...already, ...failed];
    return result;
  };
}

/** Adds both fault middlewares to a client (or a DynamoDBDocumentClient sharing its stack). */
export function addFaultMiddleware(client: StackOwner, options: SdkFaultOptions): void {
  client.middlewareStack.add(requestFaults(options), {
    step: 'deserialize',
    priority: 'low',
    name: 'chaosSdkFaults',
    override: true,
  });
  client.middlewareStack.add(partialBatchFaults(options), {
    step: 'initialize',
    priority: 'low',
    name: 'chaosPartialBatch',
    override: true,
  });
}
