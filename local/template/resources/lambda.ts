/**
 * AWS::Lambda::Function, AWS::Lambda::EventSourceMapping and scheduled AWS::Events::Rule become
 * definitions the local cloud runs (function hosts, event sources, timers); nothing is created in
 * the emulators for them.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StreamMappingConfig } from '../../esm/dynamodb-stream-event-source';
import { compileFilterPatterns } from '../../esm/event-filter';
import { type SqsMappingConfig, validateSqsMapping } from '../../esm/sqs-event-source';
import type { LocalFunctionSpec } from '../../runtime/function-host';
import { NAME_LIMITS, physicalName } from '../names';
import { asString, bool, checkProperties, type DeployedResource, type ResourceContext } from './context';

export interface LocalFunctionDefinition extends LocalFunctionSpec {
  readonly arn: string;
  readonly stackName: string;
  readonly constructPath?: string;
  /** From ReservedConcurrentExecutions: at most this many invocations at once. */
  readonly reservedConcurrency?: number;
}

export type MappingDefinition =
  | { readonly kind: 'sqs'; readonly logicalId: string; readonly config: SqsMappingConfig }
  | { readonly kind: 'dynamodb'; readonly logicalId: string; readonly config: StreamMappingConfig };

export interface ScheduleDefinition {
  readonly logicalId: string;
  readonly expression: string;
  readonly intervalMs: number;
  readonly functionName: string;
  /** The event each run sends: the target's Input, or an EventBridge "Scheduled Event". */
  readonly event: unknown;
}

function codeDirectory(ctx: ResourceContext, props: Record<string, unknown>, handler: string): string {
  const code = (props.Code ?? {}) as Record<string, unknown>;
  if (typeof code.ZipFile === 'string') {
    // Inline code: CloudFormation writes it as index.js (or the handler's file) in the package root.
    const dir = mkdtempSync(join(tmpdir(), `switchyard-inline-${ctx.logicalId}-`));
    const file = handler.slice(0, handler.lastIndexOf('.')) || 'index';
    writeFileSync(join(dir, `${file}.js`), code.ZipFile);
    return dir;
  }
  const candidates: string[] = [];
  if (typeof code.S3Key === 'string') {
    const asset = ctx.stack.fileAssets.get(code.S3Key);
    if (asset) candidates.push(asset);
    candidates.push(join(ctx.stack.assemblyDir, `asset.${code.S3Key.replace(/\.zip$/, '')}`));
  }
  const metadataPath = ctx.stack.template.Resources?.[ctx.logicalId]?.Metadata?.['aws:asset:path'];
  if (typeof metadataPath === 'string') candidates.push(join(ctx.stack.assemblyDir, metadataPath));
  const found = candidates.find((c) => existsSync(c));
  if (!found) {
    throw new Error(
      `its code asset was not found (looked in ${candidates.join(', ') || 'nothing: no Code.S3Key or ZipFile'}). ` +
        'Only file assets from the same cloud assembly (or inline ZipFile code) run locally; container images do not.',
    );
  }
  return found;
}

/** Returns undefined for functions that cannot run locally (non-Node runtimes, images). */
export function defineFunction(
  ctx: ResourceContext,
  props: Record<string, unknown>,
): { resource: DeployedResource; definition?: LocalFunctionDefinition } {
  checkProperties(
    ctx,
    props,
    [
      'Code',
      'Handler',
      'Runtime',
      'Timeout',
      'MemorySize',
      'Environment',
      'FunctionName',
      'ReservedConcurrentExecutions',
      'PackageType',
    ],
    [
      'Role',
      'Architectures',
      'LoggingConfig',
      'Description',
      'Tags',
      'TracingConfig',
      'VpcConfig',
      'EphemeralStorage',
      'KmsKeyArn',
      'RuntimeManagementConfig',
      'CodeSigningConfigArn',
    ],
  );
  const name =
    props.FunctionName !== undefined
      ? asString(props.FunctionName, 'FunctionName')
      : physicalName(ctx.stack.stackName, ctx.logicalId, NAME_LIMITS.function);
  const arn = `arn:aws:lambda:${ctx.region}:${ctx.accountId}:function:${name}`;
  const resource: DeployedResource = {
    logicalId: ctx.logicalId,
    type: ctx.type,
    physicalName: name,
    ref: name,
    attributes: { Arn: arn },
  };
  const runtime = typeof props.Runtime === 'string' ? props.Runtime : '';
  if (props.PackageType === 'Image' || !runtime.startsWith('nodejs')) {
    ctx.warn(
      `${ctx.logicalId}: runtime "${runtime || props.PackageType}" does not run locally (Node.js functions only); it is not started.`,
    );
    return { resource };
  }
  const handler = asString(props.Handler ?? 'index.handler', 'Handler');
  const variables = ((props.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ??
    {}) as Record<string, unknown>;
  const environment: Record<string, string> = {};
  for (const [key, value] of Object.entries(variables))
    environment[key] = asString(value, `Environment.Variables.${key}`);
  const reserved =
    props.ReservedConcurrentExecutions === undefined ? undefined : Number(props.ReservedConcurrentExecutions);
  return {
    resource,
    definition: {
      name,
      logicalId: ctx.logicalId,
      arn,
      stackName: ctx.stack.stackName,
      constructPath: ctx.constructPath,
      codeDir: codeDirectory(ctx, props, handler),
      handler,
      environment,
      timeoutSeconds: props.Timeout === undefined ? 3 : Number(props.Timeout),
      memoryMb: props.MemorySize === undefined ? 128 : Number(props.MemorySize),
      reservedConcurrency: reserved,
    },
  };
}

/** Function name from a FunctionName property (name, ARN or partial ARN). */
export function functionNameOf(value: string): string {
  const match = /function:([^:]+)/.exec(value);
  return match ? match[1]! : value;
}

function destinationOf(ctx: ResourceContext, arn: string): NonNullable<StreamMappingConfig['onFailure']> {
  const queue = ctx.inventory.queues.find((q) => q.arn === arn);
  if (queue) return { destinationArn: arn, queueUrl: queue.url };
  if (ctx.inventory.topics.some((t) => t.arn === arn)) return { destinationArn: arn, topicArn: arn };
  // An S3 bucket (arn:aws:s3:::name) is a valid stream OnFailure destination in AWS; the bucket
  // lives in the emulator's S3 (fauxqs serves S3 too).
  const bucket = /^arn:aws[a-z-]*:s3:::([^/]+)$/.exec(arn)?.[1];
  if (bucket) return { destinationArn: arn, bucket };
  throw new Error(`its OnFailure destination ${arn} is neither a queue, a topic nor an S3 bucket ARN.`);
}

/** Stream-only settings that change delivery; refused rather than silently run differently. */
function refuseUnemulatedStreamSettings(props: Record<string, unknown>): void {
  const parallelization = props.ParallelizationFactor;
  if (parallelization !== undefined && Number(parallelization) !== 1) {
    throw new Error(
      `ParallelizationFactor ${String(parallelization)} is not emulated locally (one batch per shard at a time). ` +
        'Remove it (or set 1) for local runs; per-key ordering across concurrent batches would not be reproduced.',
    );
  }
  const tumbling = props.TumblingWindowInSeconds;
  if (tumbling !== undefined && Number(tumbling) !== 0) {
    throw new Error(
      `TumblingWindowInSeconds ${String(tumbling)} is not emulated locally: the function would get no window state and ` +
        'could block its shard. Remove it (or set 0) for local runs.',
    );
  }
}

/** Compiles the patterns now, so an unsupported or malformed pattern fails the deploy, as in AWS. */
function checkedFilters(filters: string[], dataKey: 'body' | 'dynamodb'): string[] | undefined {
  if (filters.length === 0) return undefined;
  compileFilterPatterns(filters, dataKey);
  return filters;
}

export function defineEventSourceMapping(
  ctx: ResourceContext,
  props: Record<string, unknown>,
  /** Functions deployed so far (this stack), for the timeout check against the queue. */
  functions: readonly LocalFunctionDefinition[] = [],
): {
  resource: DeployedResource;
  definition?: MappingDefinition;
} {
  checkProperties(
    ctx,
    props,
    [
      'EventSourceArn',
      'FunctionName',
      'BatchSize',
      'MaximumBatchingWindowInSeconds',
      'FunctionResponseTypes',
      'ScalingConfig',
      'Enabled',
      'StartingPosition',
      'BisectBatchOnFunctionError',
      'MaximumRetryAttempts',
      'MaximumRecordAgeInSeconds',
      'DestinationConfig',
      'FilterCriteria',
      'ParallelizationFactor',
      'TumblingWindowInSeconds',
    ],
    ['Tags', 'MetricsConfig'],
  );
  const uuid = `${ctx.stack.stackName}-${ctx.logicalId}`;
  const resource: DeployedResource = {
    logicalId: ctx.logicalId,
    type: ctx.type,
    physicalName: uuid,
    ref: uuid,
    attributes: { Id: uuid },
  };
  const sourceArn = asString(props.EventSourceArn, 'EventSourceArn');
  const functionName = functionNameOf(asString(props.FunctionName, 'FunctionName'));
  const reportBatchItemFailures = ((props.FunctionResponseTypes as string[] | undefined) ?? []).includes(
    'ReportBatchItemFailures',
  );
  const window = Number(props.MaximumBatchingWindowInSeconds ?? 0);
  const enabled = props.Enabled === undefined ? true : bool(props.Enabled);
  const filters = ((props.FilterCriteria as { Filters?: { Pattern?: unknown }[] } | undefined)?.Filters ?? [])
    .map((f) => (typeof f.Pattern === 'string' ? f.Pattern : JSON.stringify(f.Pattern)))
    .filter(Boolean);
  if (sourceArn.includes(':sqs:')) {
    const queue = ctx.inventory.queues.find((q) => q.arn === sourceArn);
    if (!queue) throw new Error(`its EventSourceArn ${sourceArn} is not a queue of the app.`);
    const maximumConcurrency = (props.ScalingConfig as { MaximumConcurrency?: unknown } | undefined)
      ?.MaximumConcurrency;
    const config: SqsMappingConfig = {
      functionName,
      queueUrl: queue.url,
      queueArn: queue.arn,
      batchSize: Number(props.BatchSize ?? 10),
      maximumBatchingWindowSeconds: window,
      reportBatchItemFailures,
      maximumConcurrency: maximumConcurrency === undefined ? undefined : Number(maximumConcurrency),
      enabled,
      awsRegion: ctx.region,
      filterPatterns: checkedFilters(filters, 'body'),
      // A function of another stack: the local cloud fills its timeout in before starting.
      functionTimeoutSeconds: functions.find((f) => f.name === functionName)?.timeoutSeconds,
      queueVisibilityTimeoutSeconds: queue.visibilityTimeoutSeconds,
    };
    // Lambda's CreateEventSourceMapping checks: batch/window limits, visibility vs function timeout.
    validateSqsMapping(config);
    return { resource, definition: { kind: 'sqs', logicalId: ctx.logicalId, config } };
  }
  if (sourceArn.includes(':dynamodb:') && sourceArn.includes('/stream/')) {
    if (!enabled) {
      ctx.warn(`${ctx.logicalId}: the mapping is disabled (Enabled: false); its stream is not read.`);
      return { resource };
    }
    const onFailure = (props.DestinationConfig as { OnFailure?: { Destination?: string } } | undefined)
      ?.OnFailure?.Destination;
    if (props.StartingPosition === undefined) {
      throw new Error(
        'StartingPosition is required for a DynamoDB stream mapping (AWS rejects the mapping without it): set TRIM_HORIZON or LATEST.',
      );
    }
    const position = asString(props.StartingPosition, 'StartingPosition');
    if (position !== 'TRIM_HORIZON' && position !== 'LATEST') {
      throw new Error(
        `StartingPosition ${position} is not valid for a DynamoDB stream (AWS accepts TRIM_HORIZON or LATEST; AT_TIMESTAMP is Kinesis only).`,
      );
    }
    refuseUnemulatedStreamSettings(props);
    return {
      resource,
      definition: {
        kind: 'dynamodb',
        logicalId: ctx.logicalId,
        config: {
          functionName,
          streamArn: sourceArn,
          startingPosition: position,
          batchSize: Number(props.BatchSize ?? 100),
          maximumBatchingWindowSeconds: window,
          maximumRetryAttempts: Number(props.MaximumRetryAttempts ?? -1),
          maximumRecordAgeSeconds: Number(props.MaximumRecordAgeInSeconds ?? -1),
          bisectBatchOnFunctionError: bool(props.BisectBatchOnFunctionError),
          reportBatchItemFailures,
          onFailure: onFailure ? destinationOf(ctx, onFailure) : undefined,
          mappingUuid: uuid,
          filterPatterns: checkedFilters(filters, 'dynamodb'),
          awsRegion: ctx.region,
        },
      },
    };
  }
  ctx.warn(
    `${ctx.logicalId}: event source ${sourceArn} is not emulated (SQS queues and DynamoDB streams only).`,
  );
  return { resource };
}

const RATE_UNITS: Record<string, number> = {
  minute: 60_000,
  minutes: 60_000,
  hour: 3_600_000,
  hours: 3_600_000,
  day: 86_400_000,
  days: 86_400_000,
};

/** `rate(5 minutes)` -> 300000. Undefined for anything else (cron). */
export function rateIntervalMs(expression: string): number | undefined {
  const match = /^rate\(\s*(\d+)\s+(\w+)\s*\)$/.exec(expression.trim());
  const unit = match ? RATE_UNITS[match[2]!.toLowerCase()] : undefined;
  return match && unit ? Number(match[1]) * unit : undefined;
}

export function defineScheduleRule(
  ctx: ResourceContext,
  props: Record<string, unknown>,
  functionArns: ReadonlyMap<string, string>,
): { resource: DeployedResource; definitions: ScheduleDefinition[] } {
  checkProperties(
    ctx,
    props,
    ['ScheduleExpression', 'State', 'Targets', 'Name'],
    ['Description', 'RoleArn', 'EventBusName'],
  );
  const name =
    props.Name !== undefined
      ? asString(props.Name, 'Name')
      : physicalName(ctx.stack.stackName, ctx.logicalId, NAME_LIMITS.rule);
  const arn = `arn:aws:events:${ctx.region}:${ctx.accountId}:rule/${name}`;
  const resource: DeployedResource = {
    logicalId: ctx.logicalId,
    type: ctx.type,
    physicalName: name,
    ref: name,
    attributes: { Arn: arn },
  };
  if (props.EventPattern !== undefined || props.ScheduleExpression === undefined) {
    ctx.warn(
      `${ctx.logicalId}: event-pattern rules are not emulated (only ScheduleExpression rate(...) rules).`,
    );
    return { resource, definitions: [] };
  }
  if (props.State !== undefined && props.State !== 'ENABLED') return { resource, definitions: [] };
  const expression = asString(props.ScheduleExpression, 'ScheduleExpression');
  const intervalMs = rateIntervalMs(expression);
  if (intervalMs === undefined) {
    ctx.warn(
      `${ctx.logicalId}: schedule "${expression}" is not emulated (only rate(N minute|minutes|hour|hours|day|days)).`,
    );
    return { resource, definitions: [] };
  }
  const definitions: ScheduleDefinition[] = [];
  for (const target of (props.Targets as Record<string, unknown>[] | undefined) ?? []) {
    const functionName = functionArns.get(String(target.Arn));
    if (!functionName) {
      ctx.warn(
        `${ctx.logicalId}: target ${String(target.Arn)} is not a local function; only Lambda targets run locally.`,
      );
      continue;
    }
    const event =
      typeof target.Input === 'string'
        ? JSON.parse(target.Input)
        : {
            version: '0',
            id: 'local',
            'detail-type': 'Scheduled Event',
            source: 'aws.events',
            account: ctx.accountId,
            region: ctx.region,
            resources: [arn],
            detail: {},
          };
    definitions.push({ logicalId: ctx.logicalId, expression, intervalMs, functionName, event });
  }
  return { resource, definitions };
}
