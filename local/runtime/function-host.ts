/**
 * Runs one Lambda function locally: a pool of warm worker threads (up to `concurrency`), each
 * serving one invocation at a time, with the function's own environment, a Lambda `context`,
 * the timeout enforced, and console output captured and prefixed with the function name.
 *
 * Why worker threads and not child processes: a thread starts in tens of milliseconds and shares
 * the host's memory budget (2-core machines run dozens of instances), `Worker({ env })` gives each
 * function its own `process.env`, `terminate()` stops a runaway handler at once (the timeout), and
 * `resourceLimits` caps the heap like the function's memory size. What a thread does not isolate
 * (process-wide state such as `process.chdir` or native addons) Lambda code rarely touches.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { FunctionSpecError, RuntimeErrorType } from './errors';
import { FunctionInstance, INIT_TIMEOUT_MS, type InvokeError, type RunOutcome } from './function-instance';
import { runtimeNodePath } from './node-path';
import type { SandboxPool } from './sandbox-pool';

export interface LocalFunctionSpec {
  /** Function name, used in logs, the context and ARNs. */
  name: string;
  /** Logical id of the function in the CloudFormation template. */
  logicalId: string;
  /** Directory holding the (bundled) code. */
  codeDir: string;
  /** `<file>.<export>`, for example `index.handler`. */
  handler: string;
  environment: Record<string, string>;
  timeoutSeconds: number;
  /** @default 128 */
  memoryMb?: number;
}

export interface InvokeResult {
  ok: boolean;
  response?: unknown;
  error?: { errorType: string; errorMessage: string; stack?: string[] };
  timedOut: boolean;
  durationMs: number;
  requestId: string;
  /** Log lines of this invocation, each prefixed with `[functionName]`. */
  logs: string[];
  /** No instance was free before `InvokeOptions.startBy`: the function never ran (Lambda's throttle). */
  throttled?: boolean;
}

export interface InvokeOptions {
  /**
   * Epoch milliseconds by which the invocation must have started. An event source passes the time
   * after which its messages would reappear (minus the function timeout): an invocation that had to
   * wait longer for a free instance would run while the same messages are delivered again, so it is
   * throttled instead and never runs.
   * @default - waits for a free instance as long as it takes
   */
  startBy?: number;
}

/** Something that runs a function for an event, as an event source mapping sees it. */
export interface Invoker {
  readonly name: string;
  /** Most invocations it runs at once; event sources size their in-flight batches to it. */
  readonly concurrency?: number;
  invoke(event: unknown, options?: InvokeOptions): Promise<InvokeResult>;
}

export interface FunctionHostOptions {
  /** Receives every log line (already prefixed). @default - lines are only kept in `InvokeResult.logs` */
  log?: (line: string) => void;
  /** Maximum parallel instances. @default 10 */
  concurrency?: number;
  /** Init phase limit of a fresh instance. @default 10 000 (Lambda's) */
  initTimeoutMs?: number;
  /** A module every instance loads before the handler (the chaos run's fault injector). @default - none */
  preload?: WorkerPreload;
  /**
   * Threads shared with other functions' sandboxes (isolation 'shared'). Not used with a `preload`
   * (the fault injector patches its thread's SDK and kills its thread): that gets a thread per
   * sandbox. A function whose handler is an ES module (Node caches those per thread) moves to a
   * thread per sandbox at its first load, before any of its code runs.
   * @default - a worker thread per sandbox
   */
  pool?: SandboxPool;
}

/**
 * A CommonJS module loaded in the worker before the handler: `install(data, { functionName })`
 * runs first, and `wrapHandler(handler)`, if exported, wraps the handler.
 */
export interface WorkerPreload {
  /** Absolute path of the compiled module. */
  readonly module: string;
  /** Passed to `install`; structured-cloned (a SharedArrayBuffer stays shared). */
  readonly data: unknown;
}

/** Sandbox failures on shared threads after which a function gets threads of its own. */
const SHARED_FAILURE_LIMIT = 2;

/** Account id of the local ARNs; the SNS/SQS emulator uses the same. */
export const LOCAL_ACCOUNT_ID = '000000000000';

/** Variables of the host process that reach every function unless its spec sets them. */
const INHERITED_VARIABLE =
  /^(AWS_ENDPOINT_URL(_[A-Z0-9_]+)?|AWS_REGION|AWS_DEFAULT_REGION|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|AWS_SDK_LOAD_CONFIG|PATH|LANG)$/;

function validate(spec: LocalFunctionSpec): void {
  const problems: string[] = [];
  if (!spec.name) problems.push('`name` is empty');
  if (!existsSync(spec.codeDir) || !statSync(spec.codeDir).isDirectory()) {
    problems.push(
      `codeDir '${spec.codeDir}' is not a directory (synthesize the app so cdk.out holds the asset)`,
    );
  }
  if (!/^[^.].*\.[^.]+$/.test(spec.handler)) {
    problems.push(`handler '${spec.handler}' must look like '<file>.<export>', for example 'index.handler'`);
  }
  if (!(spec.timeoutSeconds > 0)) problems.push(`timeoutSeconds must be > 0, got ${spec.timeoutSeconds}`);
  if (spec.memoryMb !== undefined && !(spec.memoryMb >= 64)) {
    problems.push(`memoryMb must be >= 64, got ${spec.memoryMb}`);
  }
  if (problems.length > 0) {
    throw new FunctionSpecError(
      `Function ${spec.name || spec.logicalId} cannot run: ${problems.join('; ')}.`,
    );
  }
}

/**
 * A local Lambda function.
 *
 * @example
 * const host = new FunctionHost(
 *   { name: 'orders', logicalId: 'Orders', codeDir: 'cdk.out/asset.abc', handler: 'index.handler',
 *     environment: { TABLE: 'orders' }, timeoutSeconds: 30 },
 *   { log: (line) => console.log(line), concurrency: 4 },
 * );
 * const result = await host.invoke({ Records: [] });
 * if (!result.ok) console.error(result.error?.errorType, result.error?.errorMessage);
 * await host.stop();
 */
export class FunctionHost implements Invoker {
  readonly name: string;
  readonly concurrency: number;
  private readonly memoryMb: number;
  private readonly env: Record<string, string>;
  /** Set while this function's sandboxes go on shared threads; cleared when one is evicted. */
  private pool: SandboxPool | undefined;
  private readonly idle: FunctionInstance[] = [];
  private readonly all = new Set<FunctionInstance>();
  private readonly waiters: ((instance: FunctionInstance | undefined) => void)[] = [];
  private stopped = false;
  private instanceCount = 0;
  private sharedFailures = 0;
  private initTimeoutCount = 0;

  constructor(
    private readonly spec: LocalFunctionSpec,
    private readonly options: FunctionHostOptions = {},
  ) {
    validate(spec);
    this.name = spec.name;
    this.concurrency = Math.max(1, options.concurrency ?? 10);
    this.memoryMb = spec.memoryMb ?? 128;
    this.env = this.buildEnvironment();
    this.pool = options.preload ? undefined : options.pool;
  }

  /** Where this function's sandboxes run. */
  get isolation(): 'shared' | 'thread' {
    return this.pool ? 'shared' : 'thread';
  }

  /** Invokes the function once, like a synchronous `Invoke`. Never rejects: failures are in the result. */
  async invoke(event: unknown, options: InvokeOptions = {}): Promise<InvokeResult> {
    const requestId = randomUUID();
    const started = performance.now();
    const logs: string[] = [];
    const done = (outcome: RunOutcome): InvokeResult => ({
      ...outcome,
      durationMs: performance.now() - started,
      requestId,
      logs,
    });
    const acquired = await this.acquire(options.startBy);
    if (acquired === 'throttled') return { ...done(this.throttledOutcome(options.startBy)), throttled: true };
    if (!acquired) return done(this.stoppedOutcome());
    let instance = acquired;
    instance.sink = logs;
    try {
      let initError = await instance.ready;
      let runSeconds = this.spec.timeoutSeconds;
      if (initError?.errorType === RuntimeErrorType.InitTimeout) {
        if (this.stopped) return done(this.stoppedOutcome());
        // Lambda does not fail the invocation when init passes 10 s: it runs init again inside the
        // invocation, bounded by the function's own timeout (init and handler together).
        instance = this.retryInit(instance, logs);
        const initStarted = performance.now();
        initError = await instance.ready;
        runSeconds = Math.max(0.001, this.spec.timeoutSeconds - (performance.now() - initStarted) / 1000);
        if (initError?.errorType === RuntimeErrorType.InitTimeout) {
          initError = {
            errorType: RuntimeErrorType.Timeout,
            errorMessage: `RequestId: ${requestId} Error: Task timed out after ${this.spec.timeoutSeconds.toFixed(2)} seconds (during init, retried after the 10 s init limit)`,
          };
          return done({ ok: false, timedOut: true, error: initError });
        }
      }
      if (initError) {
        instance.kill('failed');
        return done({ ok: false, timedOut: false, error: initError });
      }
      return done(await instance.run(requestId, JSON.stringify(event) ?? 'null', runSeconds));
    } finally {
      instance.sink = undefined;
      this.release(instance);
    }
  }

  /** Replaces an instance whose init timed out by one whose init may take the function timeout. */
  private retryInit(timedOut: FunctionInstance, logs: string[]): FunctionInstance {
    this.initTimeoutCount += 1;
    timedOut.kill();
    this.all.delete(timedOut);
    this.options.log?.(
      `[${this.name}] INIT_REPORT Init Duration exceeded ${(this.options.initTimeoutMs ?? INIT_TIMEOUT_MS) / 1000} s: retrying init within the invocation (function timeout ${this.spec.timeoutSeconds} s)`,
    );
    const retry = this.createInstance(this.spec.timeoutSeconds * 1000);
    retry.sink = logs;
    return retry;
  }

  /** Instances started so far, and how many of their inits passed the init limit (and were retried). */
  initStats(): { instancesStarted: number; initTimeouts: number } {
    return { instancesStarted: this.instanceCount, initTimeouts: this.initTimeoutCount };
  }

  /** Terminates every instance; invocations still waiting for one fail with `Runtime.HostStopped`. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const waiter of this.waiters.splice(0)) waiter(undefined);
    for (const instance of this.all) instance.kill();
    this.idle.length = 0;
  }

  private stoppedOutcome(): RunOutcome {
    const error: InvokeError = {
      errorType: RuntimeErrorType.HostStopped,
      errorMessage: `Function ${this.name} was stopped before the invocation could run.`,
    };
    return { ok: false, timedOut: false, error };
  }

  private throttledOutcome(startBy: number | undefined): RunOutcome {
    const error: InvokeError = {
      errorType: RuntimeErrorType.Throttled,
      errorMessage:
        `Rate Exceeded: all ${this.concurrency} local instances of ${this.name} stayed busy past the invocation's start deadline ` +
        `(${new Date(startBy ?? 0).toISOString()}); raise the function's concurrency (reservedConcurrentExecutions or the local cloud's functionConcurrency) or lower the callers' concurrency.`,
    };
    return { ok: false, timedOut: false, error };
  }

  /** A free instance, `undefined` once stopped, or 'throttled' when none is free by `startBy`. */
  private acquire(startBy?: number): Promise<FunctionInstance | undefined | 'throttled'> {
    if (this.stopped) return Promise.resolve(undefined);
    for (let warm = this.idle.pop(); warm; warm = this.idle.pop()) {
      // An idle sandbox can die on its own (a late unhandled rejection, process.exit in a timer).
      if (!warm.dead) return Promise.resolve(warm);
      this.all.delete(warm);
    }
    if (this.all.size < this.concurrency) return Promise.resolve(this.createInstance());
    if (startBy === undefined) return new Promise((resolve) => this.waiters.push(resolve));
    const waitMs = startBy - Date.now();
    if (waitMs <= 0) return Promise.resolve('throttled');
    return new Promise((resolve) => {
      const waiter = (instance: FunctionInstance | undefined) => {
        clearTimeout(timer);
        resolve(instance);
      };
      const timer = setTimeout(() => {
        const index = this.waiters.indexOf(waiter);
        if (index !== -1) this.waiters.splice(index, 1);
        resolve('throttled');
      }, waitMs);
      this.waiters.push(waiter);
    });
  }

  private release(instance: FunctionInstance): void {
    if (this.stopped) {
      instance.kill();
      this.all.delete(instance);
      return;
    }
    let next: FunctionInstance | undefined = instance;
    if (instance.dead && instance.failed && this.pool) {
      // Each such end retires the shared thread it ran on (its code may live on): a function that
      // keeps failing would make its neighbours start again and again, so it leaves.
      this.sharedFailures += 1;
      if (this.sharedFailures >= SHARED_FAILURE_LIMIT) {
        this.leaveSharedThreads(
          `its sandboxes ended ${this.sharedFailures} times by a timeout, crash, exit or failed init, and each retired a shared thread`,
        );
      }
    }
    if (instance.dead) {
      // A timed-out or crashed sandbox is replaced, as Lambda does, only when work is waiting.
      this.all.delete(instance);
      next = this.waiters.length > 0 ? this.createInstance() : undefined;
    }
    if (!next) return;
    const waiter = this.waiters.shift();
    if (waiter) waiter(next);
    else this.idle.push(next);
  }

  private createInstance(initTimeoutMs = this.options.initTimeoutMs): FunctionInstance {
    this.instanceCount += 1;
    const date = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
    const instance = new FunctionInstance({
      functionName: this.name,
      env: this.env,
      memoryMb: this.memoryMb,
      initTimeoutMs,
      workerData: {
        codeDir: resolve(this.spec.codeDir),
        handler: this.spec.handler,
        functionName: this.name,
        memoryMb: this.memoryMb,
        region: this.env.AWS_REGION ?? 'us-east-1',
        accountId: LOCAL_ACCOUNT_ID,
        logStreamName: `${date}/[$LATEST]${randomUUID().replaceAll('-', '')}`,
        preload: this.options.preload,
      },
      emit: (line, sink) => {
        sink?.push(line);
        this.options.log?.(line);
      },
      pool: () => this.pool,
      onEvict: (reason) => this.leaveSharedThreads(reason),
    });
    this.all.add(instance);
    return instance;
  }

  /** From now on this function's new sandboxes get threads of their own (isolation 'thread'). */
  private leaveSharedThreads(reason: string): void {
    if (!this.pool) return;
    this.pool = undefined;
    this.options.log?.(
      `[${this.name}] runs in threads of its own from now on (isolation 'thread'): ${reason}.`,
    );
  }

  /** Inherited AWS endpoint/credential/region variables, then the spec's, then Lambda's reserved ones. */
  private buildEnvironment(): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(process.env)) {
      if (value !== undefined && INHERITED_VARIABLE.test(key)) env[key] = value;
    }
    // Functions target nodejs22.x; the SDK's warning about this machine's older Node says nothing
    // about the deployed function, and every instance would print it.
    env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
    Object.assign(env, this.spec.environment);
    const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
    Object.assign(env, {
      AWS_REGION: region,
      AWS_LAMBDA_FUNCTION_NAME: this.name,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(this.memoryMb),
      AWS_LAMBDA_FUNCTION_TIMEOUT: String(this.spec.timeoutSeconds),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${this.name}`,
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
      LAMBDA_TASK_ROOT: resolve(this.spec.codeDir),
      _HANDLER: this.spec.handler,
      NODE_PATH: runtimeNodePath(),
    });
    return env;
  }
}
