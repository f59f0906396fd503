/**
 * The local cloud: synthesizes (or reads) a cloud assembly, starts the embedded emulators or uses
 * given endpoints, deploys every stack, and runs the functions, event source mappings and
 * schedules. `stop()` shuts everything down.
 *
 * @example
 * const cloud = await LocalCloud.start({ projectDir: process.cwd(), log: console.log });
 * const result = await cloud.invoke('PlaceOrder', { customerId: 'c-1', items: [] });
 * await cloud.stop();
 */

import { availableParallelism } from 'node:os';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { startDynamoDbLocal } from './dynamodb-local';
import { endpointEnvironment, type LocalEndpoints } from './endpoints';
import { StreamEventSource } from './esm/dynamodb-stream-event-source';
import { SqsEventSource } from './esm/sqs-event-source';
import { type FunctionUrlServer, serveFunctionUrl } from './http/function-url-server';
import type { Denial } from './iam/gateway';
import type { UndeliverableStats } from './iam/sns-delivery';
import { StrictLayer } from './iam/strict-layer';
import { ObservedInvoker } from './observed-invoker';
import { FunctionHost, type InvokeResult, type Invoker, type WorkerPreload } from './runtime/function-host';
import { workerExecArgv } from './runtime/function-instance';
import { SandboxPool } from './runtime/sandbox-pool';
import type { LocalScheduler } from './scheduler/local-scheduler';
import { startSnsSqs } from './sns-sqs';
import { readCloudAssembly, synthesize, synthesizeCached } from './template/assembly';
import { type DeployedStack, deployStack, emptyInventory } from './template/deployer';
import { UnknownFunctionError } from './template/errors';
import type { DeployClients, Inventory } from './template/resources/context';
import type { LocalFunctionDefinition, MappingDefinition } from './template/resources/lambda';

export interface LocalCloudOptions {
  /** Directory with `cdk.json`; the app is synthesized from it. @default process.cwd() */
  readonly projectDir?: string;
  /** An already synthesized cloud assembly; skips synthesis. */
  readonly assemblyDir?: string;
  /** Synthesize even when the cached assembly of an unchanged app exists. @default false */
  readonly noSynthCache?: boolean;
  /** Use these endpoints instead of starting the embedded emulators. */
  readonly endpoints?: LocalEndpoints;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** Start event source mappings and schedules. @default true */
  readonly runEventSources?: boolean;
  /** Progress and deployment lines. @default - silent */
  readonly log?: (line: string) => void;
  /** Function log lines (prefixed with the function name). @default - kept in InvokeResult.logs only */
  readonly functionLog?: (line: string) => void;
  /**
   * Event source mapping lines: failed receives and stream reads, discards, renewed iterators.
   * @default - silent; errors still reach mappingReports()
   */
  readonly eventSourceLog?: (line: string) => void;
  /**
   * Most instances (sandboxes) per function, unless its ReservedConcurrentExecutions says
   * otherwise. Each instance loads the function's code (and, with isolation 'thread', the SDK), so
   * a small number keeps a laptop responsive. @default - the machine's cores, from 2 to 4 (see
   * defaultFunctionConcurrency)
   */
  readonly functionConcurrency?: number;
  /**
   * Where function sandboxes run. 'shared': sandboxes of all functions share one worker thread per
   * core, each with its own modules, environment and logs, and the runtime's SDK compiled once per
   * thread (issue 13: 0.55 -> 0.70 of the baseline's throughput). 'thread': a worker thread per
   * sandbox, which also enforces each function's memory size and isolates code that patches
   * process-wide state. A fault-injection run always uses 'thread'.
   * @default 'shared'
   */
  readonly isolation?: FunctionIsolation;
  /** Enforce the template's IAM, resource and key policies (`--no-iam` turns it off). @default true */
  readonly iam?: boolean;
  /** Fault injection (the chaos run). @default - none */
  readonly faults?: CloudFaultHooks;
}

/** How a chaos run injects faults: inside every function worker and on the mappings' own SDK clients. */
export interface CloudFaultHooks {
  /** The module every worker of this function loads before its handler. */
  workerPreload(fn: LocalFunctionDefinition): WorkerPreload;
  /** Called once on each SDK client of an event source mapping (each mapping gets its own clients). */
  decorateMappingClient(client: SQSClient | SNSClient | DynamoDBStreamsClient, mapping: string): void;
  /** Caps every function's timeout, so an injected timeout costs seconds, not minutes. @default - the template's */
  readonly maxFunctionTimeoutSeconds?: number;
}

/**
 * Empty-poll pause of a stream mapping whose shard had records in the last 2 s (Lambda's own cadence,
 * 250 ms, applies to an idle shard). Each flow through an outbox crosses a stream twice, and at
 * 250 ms those two polls were most of a local order's 600 ms round trip (issue 13).
 */
const ACTIVE_STREAM_POLL_MS = 20;

/**
 * Instances per function when neither the template nor the caller says: one per core, at least 2
 * and at most 4. Every instance is a worker thread that loads the function's bundle and the SDK
 * (a few hundred ms of CPU each), and the emulators need the same cores: on this 2-core machine 4
 * instances per function cost 88 CPU-ms per order against 72 with 2, and were not faster (issue 13).
 */
export function defaultFunctionConcurrency(): number {
  return Math.min(4, Math.max(2, availableParallelism()));
}

interface RunningMapping {
  readonly definition: MappingDefinition;
  readonly observer: ObservedInvoker;
  readonly source: SqsEventSource | StreamEventSource;
}

/** Stats of one event source mapping, for reports. */
export interface MappingReport {
  readonly logicalId: string;
  readonly kind: 'sqs' | 'dynamodb';
  readonly functionName: string;
  readonly source: string;
  readonly observer: ObservedInvoker;
  readonly stats: Record<string, number>;
  /** Errors the mapping met talking to its source (`N x message`), latest last. */
  readonly errors: readonly string[];
}

/** Finds a function by physical name, logical id, or construct path fragment (case-insensitive). */
export function findFunctionIn<T extends LocalFunctionDefinition>(all: readonly T[], query: string): T {
  const q = query.toLowerCase();
  const exact = all.filter((f) => f.name === query || f.logicalId === query || f.arn === query);
  if (exact.length === 1) return exact[0]!;
  const partial = all.filter(
    (f) =>
      f.name.toLowerCase().includes(q) ||
      f.logicalId.toLowerCase().includes(q) ||
      (f.constructPath ?? '').toLowerCase().includes(q),
  );
  if (partial.length === 1) return partial[0]!;
  const describe = (f: LocalFunctionDefinition) =>
    `${f.logicalId}  (name ${f.name}${f.constructPath ? `, path ${f.constructPath}` : ''})`;
  if (partial.length > 1) {
    throw new UnknownFunctionError(query, partial.map(describe), true);
  }
  throw new UnknownFunctionError(query, all.map(describe));
}

export type FunctionIsolation = 'shared' | 'thread';

/** An emulator (or the gateway) the cloud stops with itself; `pid` when it is a process of its own. */
interface RunningEmulator {
  stop(): Promise<void>;
  readonly pid?: number;
}

export class LocalCloud {
  /** Shared sandbox threads (isolation 'shared'), started with the first function. */
  private pool: SandboxPool | undefined;
  private isolation: FunctionIsolation = 'shared';
  private readonly hosts = new Map<string, FunctionHost>();
  private readonly running: RunningMapping[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly urlServers: FunctionUrlServer[] = [];
  private readonly mappingClients: { destroy(): void }[] = [];
  private faults: CloudFaultHooks | undefined;
  private stopped = false;
  /** The cloud assembly the app was deployed from (its topology model is read from it). */
  assemblyDir?: string;

  private constructor(
    readonly endpoints: LocalEndpoints,
    readonly region: string,
    readonly stacks: readonly DeployedStack[],
    readonly inventory: Inventory,
    readonly clients: DeployClients & { streams: DynamoDBStreamsClient; s3: S3Client },
    private readonly emulators: RunningEmulator[],
    private readonly functionLog?: (line: string) => void,
    private readonly functionConcurrency = defaultFunctionConcurrency(),
    private readonly eventSourceLog?: (line: string) => void,
    readonly strict?: StrictLayer,
  ) {}

  /** Synthesizes, starts the emulators (unless `endpoints`), deploys and runs the app. */
  static async start(options: LocalCloudOptions = {}): Promise<LocalCloud> {
    const log = options.log ?? (() => undefined);
    const region = options.region ?? 'us-east-1';
    let assemblyDir = options.assemblyDir;
    const emulators: RunningEmulator[] = [];
    const projectDir = options.projectDir ?? process.cwd();
    if (!assemblyDir && options.noSynthCache) log('Synthesizing the CDK app ...');
    // Synthesis (a child process) and emulator start-up overlap.
    const synth = assemblyDir
      ? Promise.resolve(assemblyDir)
      : options.noSynthCache
        ? synthesize({ projectDir, region })
        : synthesizeCached({ projectDir, region, log });
    let endpoints = options.endpoints;
    try {
      if (!endpoints) {
        log('Starting DynamoDB Local and the SNS/SQS emulator ...');
        const [snsSqs, dynamodb] = await Promise.all([
          startSnsSqs({ region }).then((e) => {
            emulators.push(e);
            return e;
          }),
          startDynamoDbLocal().then((e) => {
            emulators.push(e);
            return e;
          }),
        ]);
        endpoints = { snsSqs: snsSqs.endpoint, dynamodb: dynamodb.endpoint };
      }
      assemblyDir = await synth;
    } catch (error) {
      await synth.catch(() => undefined);
      await Promise.all(emulators.map((e) => e.stop()));
      throw error;
    }
    let strict: StrictLayer;
    try {
      strict = await StrictLayer.start({
        upstream: endpoints,
        region,
        accountId: '000000000000',
        enforceIam: options.iam ?? true,
        log: options.log,
        localSsm: options.endpoints === undefined,
      });
    } catch (error) {
      await Promise.all(emulators.map((e) => e.stop()));
      throw error;
    }
    emulators.unshift(strict);
    endpoints = strict.endpoints;
    const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
    const clients = {
      sqs: new SQSClient({ endpoint: endpoints.snsSqs, region, credentials }),
      sns: new SNSClient({ endpoint: endpoints.snsSqs, region, credentials }),
      dynamodb: new DynamoDBClient({ endpoint: endpoints.dynamodb, region, credentials }),
      streams: new DynamoDBStreamsClient({ endpoint: endpoints.dynamodb, region, credentials }),
      // S3 OnFailure destinations of stream mappings: fauxqs (or LocalStack's edge) serves S3 too.
      s3: new S3Client({ endpoint: endpoints.snsSqs, region, credentials, forcePathStyle: true }),
    };
    const inventory = emptyInventory();
    const exports = new Map<string, unknown>();
    const stacks: DeployedStack[] = [];
    try {
      for (const stack of readCloudAssembly(assemblyDir)) {
        log(`Deploying stack ${stack.stackName} ...`);
        stacks.push(
          await deployStack(stack, {
            clients,
            inventory,
            region,
            exports,
            security: strict.model,
            parameters: strict.parameters,
            scheduleGroups: strict.scheduler,
          }),
        );
      }
      await strict.afterDeploy(clients, inventory);
    } catch (error) {
      await Promise.all(emulators.map((e) => e.stop()));
      throw error;
    }
    const cloud = new LocalCloud(
      endpoints,
      region,
      stacks,
      inventory,
      clients,
      emulators,
      options.functionLog,
      options.functionConcurrency ?? defaultFunctionConcurrency(),
      options.eventSourceLog,
      strict,
    );
    cloud.assemblyDir = assemblyDir;
    cloud.faults = options.faults;
    // The fault injector patches its thread's SDK and kills its thread: a thread per sandbox.
    cloud.isolation = options.faults ? 'thread' : (options.isolation ?? 'shared');
    if (options.runEventSources ?? true) cloud.startEventSources(log);
    try {
      await cloud.serveFunctionUrls(log);
    } catch (error) {
      await cloud.stop();
      throw error;
    }
    return cloud;
  }

  /** Processes this cloud started (DynamoDB Local's JVM), for CPU accounting; fauxqs runs in this one. */
  childPids(): number[] {
    return this.emulators.flatMap((e) => (e.pid === undefined ? [] : [e.pid]));
  }

  /** Every function that runs locally. */
  functions(): LocalFunctionDefinition[] {
    return this.stacks.flatMap((s) => s.functions);
  }

  /** Outputs of all stacks (later stacks win on equal names). */
  outputs(): Record<string, unknown> {
    return Object.assign({}, ...this.stacks.map((s) => s.outputs));
  }

  /** Finds a function by physical name, logical id, or construct path fragment (case-insensitive). */
  findFunction(query: string): LocalFunctionDefinition {
    return findFunctionIn(this.functions(), query);
  }

  /** The environment a function runs with: its own, the local endpoints, and its role's credentials. */
  functionEnvironment(definition: LocalFunctionDefinition): Record<string, string> {
    return {
      ...definition.environment,
      // The emulator endpoints win: a function must never reach real AWS from the local cloud.
      ...endpointEnvironment(this.endpoints, this.region),
      ...this.strict?.functionEnvironment(definition),
    };
  }

  /** Runs a function once with `event` (by any name `findFunction` accepts). */
  invoke(query: string, event: unknown): Promise<InvokeResult> {
    return this.host(this.findFunction(query).name).invoke(event);
  }

  /** The local EventBridge Scheduler (embedded emulators only): its clock can be moved ahead in tests. */
  get scheduler(): LocalScheduler | undefined {
    return this.strict?.scheduler;
  }

  /**
   * Function instances (sandboxes) started so far, inits that passed Lambda's 10 s init limit (each
   * was retried within its invocation, as Lambda does, so it costs time, not a failure), and where
   * the sandboxes ran: the isolation, and with 'shared' the threads they share (retired ones not
   * counted).
   */
  initStats(): {
    instancesStarted: number;
    initTimeouts: number;
    isolation: FunctionIsolation;
    sharedThreads: number;
    /** With isolation 'shared': functions whose sandboxes run in threads of their own, and why in the function log. */
    ownThreads: string[];
  } {
    let instancesStarted = 0;
    let initTimeouts = 0;
    const ownThreads: string[] = [];
    for (const host of this.hosts.values()) {
      const stats = host.initStats();
      instancesStarted += stats.instancesStarted;
      initTimeouts += stats.initTimeouts;
      if (this.pool && host.isolation === 'thread') ownThreads.push(host.name);
    }
    return {
      instancesStarted,
      initTimeouts,
      isolation: this.isolation,
      sharedThreads: this.pool?.threadCount() ?? 0,
      ownThreads,
    };
  }

  /** Every call the template's policies denied, once per principal, action and resource. */
  denials(): Denial[] {
    return this.strict?.denials() ?? [];
  }

  /** SNS subscriptions whose deliveries AWS would deny, with what happened to those deliveries. */
  undeliverableSubscriptions(): readonly UndeliverableStats[] {
    return this.strict?.undeliverableSubscriptions() ?? [];
  }

  /** Stats of every running event source mapping. */
  mappingReports(): MappingReport[] {
    return this.running.map((r) => ({
      logicalId: r.definition.logicalId,
      kind: r.definition.kind,
      functionName: r.definition.config.functionName,
      source: r.definition.kind === 'sqs' ? r.definition.config.queueArn : r.definition.config.streamArn,
      observer: r.observer,
      stats: Object.fromEntries(Object.entries(r.source.stats())) as Record<string, number>,
      errors: r.source.errors(),
    }));
  }

  /** Stops schedules, mappings, functions and the embedded emulators. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    await Promise.allSettled(this.urlServers.map((s) => s.stop()));
    await Promise.allSettled(this.running.map((r) => r.source.stop()));
    await Promise.allSettled([...this.hosts.values()].map((h) => h.stop()));
    await this.pool?.stop();
    for (const client of [...Object.values(this.clients), ...this.roleClients, ...this.mappingClients])
      client.destroy();
    await Promise.allSettled(this.emulators.map((e) => e.stop()));
  }

  private readonly roleClients: { destroy(): void }[] = [];

  /** SDK clients acting with a function's role (the cloud's own clients when IAM is not in use). */
  private clientsOf(functionName: string): {
    sqs: SQSClient;
    sns: SNSClient;
    streams: DynamoDBStreamsClient;
  } {
    const definition = this.functions().find((f) => f.name === functionName);
    const identity = definition ? this.strict?.identityOf(definition) : undefined;
    if (!identity) return this.clients;
    const config = {
      region: this.region,
      credentials: { accessKeyId: identity.accessKeyId, secretAccessKey: 'local' },
    };
    const clients = {
      sqs: new SQSClient({ ...config, endpoint: this.endpoints.snsSqs }),
      sns: new SNSClient({ ...config, endpoint: this.endpoints.snsSqs }),
      streams: new DynamoDBStreamsClient({ ...config, endpoint: this.endpoints.dynamodb }),
    };
    this.roleClients.push(clients.sqs, clients.sns, clients.streams);
    return clients;
  }

  /** Function URL -> function name, for every URL served on 127.0.0.1. */
  functionUrls(): { url: string; functionName: string; authType: string }[] {
    return this.stacks.flatMap((s) =>
      s.functionUrls.map((u) => ({ url: u.url, functionName: u.functionName, authType: u.authType })),
    );
  }

  private async serveFunctionUrls(log: (line: string) => void): Promise<void> {
    for (const stack of this.stacks) {
      for (const definition of stack.functionUrls) {
        const server = await serveFunctionUrl(definition, this.host(definition.functionName), log);
        this.urlServers.push(server);
        log(`Function URL ${definition.url} -> ${definition.functionName} (auth ${definition.authType})`);
      }
    }
  }

  private host(functionName: string): FunctionHost {
    const existing = this.hosts.get(functionName);
    if (existing) return existing;
    const definition = this.functions().find((f) => f.name === functionName);
    if (!definition)
      throw new UnknownFunctionError(
        functionName,
        this.functions().map((f) => f.name),
      );
    const host = new FunctionHost(
      {
        name: definition.name,
        logicalId: definition.logicalId,
        codeDir: definition.codeDir,
        handler: definition.handler,
        timeoutSeconds: Math.min(
          definition.timeoutSeconds,
          this.faults?.maxFunctionTimeoutSeconds ?? Infinity,
        ),
        memoryMb: definition.memoryMb,
        environment: this.functionEnvironment(definition),
      },
      {
        log: this.functionLog,
        concurrency: definition.reservedConcurrency ?? this.functionConcurrency,
        preload: this.faults?.workerPreload(definition),
        pool: this.sandboxPool(),
      },
    );
    this.hosts.set(functionName, host);
    return host;
  }

  /** The shared threads, unless isolation is 'thread' (always so when faults are injected). */
  private sandboxPool(): SandboxPool | undefined {
    if (this.isolation !== 'shared') return undefined;
    this.pool ??= new SandboxPool({ execArgv: workerExecArgv(), log: this.functionLog });
    return this.pool;
  }

  /** The cloud's clients, or with fault injection, the mapping's own decorated ones. */
  /**
   * SDK clients of one event source mapping: the function's role (as in AWS) and, in a chaos run,
   * the mapping's own fault injector (each mapping gets its own clients so faults stay per mapping).
   */
  private clientsOfMapping(
    mapping: string,
    functionName: string,
  ): { sqs: SQSClient; sns: SNSClient; streams: DynamoDBStreamsClient } {
    const role = this.clientsOf(functionName);
    const faults = this.faults;
    if (!faults) return role;
    const like = (endpoint: string) => ({
      endpoint,
      region: this.region,
      credentials: role.sqs.config.credentials,
    });
    const own = {
      sqs: new SQSClient(like(this.endpoints.snsSqs)),
      sns: new SNSClient(like(this.endpoints.snsSqs)),
      streams: new DynamoDBStreamsClient(like(this.endpoints.dynamodb)),
    };
    for (const client of Object.values(own)) {
      faults.decorateMappingClient(client, mapping);
      this.mappingClients.push(client);
    }
    return own;
  }

  private startEventSources(log: (line: string) => void): void {
    for (const stack of this.stacks) {
      for (const definition of stack.mappings) {
        const invoker: Invoker = this.host(definition.config.functionName);
        const observer = new ObservedInvoker(invoker, definition.logicalId);
        // As in AWS, the mapping polls and sends to its OnFailure destination with the function's role.
        const clients = this.clientsOfMapping(definition.logicalId, definition.config.functionName);
        const sourceOptions = { log: this.eventSourceLog };
        const source =
          definition.kind === 'sqs'
            ? new SqsEventSource(
                {
                  ...definition.config,
                  // A function of another stack: its timeout is known only now (checked as at deploy).
                  functionTimeoutSeconds:
                    definition.config.functionTimeoutSeconds ??
                    this.functions().find((f) => f.name === definition.config.functionName)?.timeoutSeconds,
                },
                observer,
                clients.sqs,
                sourceOptions,
              )
            : new StreamEventSource(
                { activePollIntervalMs: ACTIVE_STREAM_POLL_MS, ...definition.config },
                observer,
                {
                  streams: clients.streams,
                  sqs: clients.sqs,
                  sns: clients.sns,
                  // The gateway authorizes SNS, SQS and DynamoDB only; S3 goes with the cloud's client.
                  s3: this.clients.s3,
                },
                sourceOptions,
              );
        source.start();
        this.running.push({ definition, observer, source });
      }
      for (const schedule of stack.schedules) {
        const host = this.host(schedule.functionName);
        log(`Schedule ${schedule.logicalId}: ${schedule.expression} -> ${schedule.functionName}`);
        const timer = setInterval(() => {
          const event =
            typeof schedule.event === 'object' && schedule.event && 'detail-type' in schedule.event
              ? { ...schedule.event, time: new Date().toISOString() }
              : schedule.event;
          host.invoke(event).then(
            (r) =>
              !r.ok && log(`Schedule ${schedule.logicalId}: ${r.error?.errorType}: ${r.error?.errorMessage}`),
            (e: Error) => log(`Schedule ${schedule.logicalId}: ${e.message}`),
          );
        }, schedule.intervalMs);
        timer.unref();
        this.timers.push(timer);
      }
    }
  }
}
