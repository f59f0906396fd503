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
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { startDynamoDbLocal } from './dynamodb-local';
import { endpointEnvironment, type LocalEndpoints } from './endpoints';
import { StreamEventSource } from './esm/dynamodb-stream-event-source';
import { SqsEventSource } from './esm/sqs-event-source';
import { ObservedInvoker } from './observed-invoker';
import { FunctionHost, type InvokeResult, type Invoker } from './runtime/function-host';
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
   * Most instances (worker threads) per function, unless its ReservedConcurrentExecutions says
   * otherwise. Each instance loads the function's code and SDK, so a small number keeps a
   * laptop responsive. @default 4
   */
  readonly functionConcurrency?: number;
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

export class LocalCloud {
  private readonly hosts = new Map<string, FunctionHost>();
  private readonly running: RunningMapping[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private stopped = false;

  private constructor(
    readonly endpoints: LocalEndpoints,
    readonly region: string,
    readonly stacks: readonly DeployedStack[],
    readonly inventory: Inventory,
    readonly clients: DeployClients & { streams: DynamoDBStreamsClient; s3: S3Client },
    private readonly emulators: { stop(): Promise<void> }[],
    private readonly functionLog?: (line: string) => void,
    private readonly functionConcurrency = 4,
    private readonly eventSourceLog?: (line: string) => void,
  ) {}

  /** Synthesizes, starts the emulators (unless `endpoints`), deploys and runs the app. */
  static async start(options: LocalCloudOptions = {}): Promise<LocalCloud> {
    const log = options.log ?? (() => undefined);
    const region = options.region ?? 'us-east-1';
    let assemblyDir = options.assemblyDir;
    const emulators: { stop(): Promise<void> }[] = [];
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
        stacks.push(await deployStack(stack, { clients, inventory, region, exports }));
      }
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
      options.functionConcurrency,
      options.eventSourceLog,
    );
    if (options.runEventSources ?? true) cloud.startEventSources(log);
    return cloud;
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
    const all = this.functions();
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

  /** Runs a function once with `event` (by any name `findFunction` accepts). */
  invoke(query: string, event: unknown): Promise<InvokeResult> {
    return this.host(this.findFunction(query).name).invoke(event);
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
    await Promise.allSettled(this.running.map((r) => r.source.stop()));
    await Promise.allSettled([...this.hosts.values()].map((h) => h.stop()));
    for (const client of Object.values(this.clients)) client.destroy();
    await Promise.allSettled(this.emulators.map((e) => e.stop()));
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
        timeoutSeconds: definition.timeoutSeconds,
        memoryMb: definition.memoryMb,
        // The emulator endpoints win: a function must never reach real AWS from the local cloud.
        environment: { ...definition.environment, ...endpointEnvironment(this.endpoints, this.region) },
      },
      { log: this.functionLog, concurrency: definition.reservedConcurrency ?? this.functionConcurrency },
    );
    this.hosts.set(functionName, host);
    return host;
  }

  private startEventSources(log: (line: string) => void): void {
    for (const stack of this.stacks) {
      for (const definition of stack.mappings) {
        const invoker: Invoker = this.host(definition.config.functionName);
        const observer = new ObservedInvoker(invoker, definition.logicalId);
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
                this.clients.sqs,
                sourceOptions,
              )
            : new StreamEventSource(
                definition.config,
                observer,
                {
                  streams: this.clients.streams,
                  sqs: this.clients.sqs,
                  sns: this.clients.sns,
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
