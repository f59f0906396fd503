/**
 * One warm execution environment of a local function, handling one invocation at a time like a
 * Lambda sandbox: alone in a worker thread running worker-bootstrap.js (isolation 'thread'), or one
 * of many sandboxes of a shared thread (isolation 'shared', see sandbox-pool.ts).
 * A sandbox that timed out, crashed or failed to initialise is `dead` and must be replaced.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { RuntimeErrorType } from './errors';
import type { SandboxEndCause, SandboxPool, SandboxPort } from './sandbox-pool';

export const BOOTSTRAP_FILE = join(__dirname, 'worker-bootstrap.js');

/**
 * The host's Node flags minus its module preloads (`-r ts-node/register`, `-r esbuild-register`,
 * `--import`, `--loader`): a worker inherits execArgv, and a TypeScript loader in every sandbox cost
 * each instance hundreds of ms of CPU at start (issue 13) while the functions are bundled JavaScript.
 * Flags such as `--enable-source-maps` or `--cpu-prof` still apply.
 */
export function workerExecArgv(hostArgv: readonly string[] = process.execArgv): string[] {
  const preloads = new Set(['-r', '--require', '--import', '--loader', '--experimental-loader']);
  const kept: string[] = [];
  for (let i = 0; i < hostArgv.length; i++) {
    const arg = hostArgv[i]!;
    if (preloads.has(arg)) {
      i += 1;
      continue;
    }
    if ([...preloads].some((flag) => arg.startsWith(`${flag}=`))) continue;
    kept.push(arg);
  }
  return kept;
}

/** Lambda's init phase limit, separate from the function timeout. */
export const INIT_TIMEOUT_MS = 10_000;

export interface InvokeError {
  errorType: string;
  errorMessage: string;
  stack?: string[];
}

export interface RunOutcome {
  ok: boolean;
  response?: unknown;
  error?: InvokeError;
  timedOut: boolean;
}

export interface InstanceOptions {
  functionName: string;
  env: Record<string, string>;
  workerData: Record<string, unknown>;
  memoryMb: number;
  /**
   * How long init may take. @default INIT_TIMEOUT_MS (10 s); a retried init (see FunctionHost)
   * gets the function's timeout instead, as Lambda's suppressed init does.
   */
  initTimeoutMs?: number;
  /** Receives every formatted log line, with the invocation's log list when one is active. */
  emit: (line: string, sink: string[] | undefined) => void;
  /**
   * The shared threads to place the sandbox on, asked at each load (a relocated sandbox's function
   * may have left the shared threads meanwhile); undefined: a worker thread of its own.
   * @default - a worker thread of its own
   */
  pool?: () => SandboxPool | undefined;
  /**
   * The shared thread reported that this sandbox changed thread-wide state (or cannot be loaded
   * per sandbox there): its function must run in threads of its own from now on.
   */
  onEvict?: (reason: string) => void;
}

type WorkerMessage =
  | { type: 'ready' }
  | { type: 'init-error'; error: InvokeError }
  | { type: 'evict'; reason: string; reload?: boolean }
  | { type: 'relocate' }
  | { type: 'log'; requestId: string | null; level: string; message: string }
  | { type: 'result'; requestId: string; ok: boolean; responseJson?: string; error?: InvokeError };

export class FunctionInstance {
  /** Resolves once the handler module is loaded: undefined when ready, the init error otherwise. */
  readonly ready: Promise<InvokeError | undefined>;
  /** True once this thread can no longer serve invocations. */
  dead = false;
  /** Ended by its own failure (a timeout, a crash, an exit, a failed init), not by being recycled. */
  failed = false;
  /** Where log lines of the current (or starting) invocation go. */
  sink: string[] | undefined;

  private worker: SandboxPort;
  /** Moved out of its shared thread: ends once its invocation in flight has answered. */
  private evicted = false;
  private settleReady: (error: InvokeError | undefined) => void = () => undefined;
  private readyDone = false;
  private pending: { requestId: string; settle: (outcome: RunOutcome) => void } | undefined;
  private partialLine: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };

  constructor(private readonly options: InstanceOptions) {
    this.ready = new Promise((resolve) => {
      this.settleReady = (error) => {
        if (this.readyDone) return;
        this.readyDone = true;
        clearTimeout(initTimer);
        resolve(error);
      };
    });
    const initTimeoutMs = options.initTimeoutMs ?? INIT_TIMEOUT_MS;
    const initTimer = setTimeout(() => {
      this.kill('timeout');
      this.settleReady({
        errorType: RuntimeErrorType.InitTimeout,
        errorMessage: `Init phase of ${options.functionName} did not finish within ${initTimeoutMs / 1000} seconds.`,
      });
    }, initTimeoutMs);
    initTimer.unref();
    this.worker = this.open(options.pool?.());
  }

  /** Starts the sandbox on a shared thread of `pool`, or in a worker thread of its own. */
  private open(pool: SandboxPool | undefined): SandboxPort {
    const port =
      pool?.open(this.options.workerData, this.options.env) ??
      new Worker(BOOTSTRAP_FILE, {
        env: this.options.env,
        workerData: this.options.workerData,
        execArgv: workerExecArgv(),
        stdout: true,
        stderr: true,
        // V8's old-space cap stands in for the function's memory size.
        resourceLimits: { maxOldGenerationSizeMb: this.options.memoryMb },
      });
    // A port this instance has moved away from (see 'evict') has nothing more to say to it.
    const current = () => port === this.worker;
    port.on('message', (message: WorkerMessage) => current() && this.onMessage(message));
    port.on('error', (error: Error & { code?: string }) => current() && this.onCrash(error));
    port.on('exit', (code: number) => current() && this.onExit(code));
    port.stdout.on('data', (chunk: Buffer) => current() && this.onOutput('stdout', chunk));
    port.stderr.on('data', (chunk: Buffer) => current() && this.onOutput('stderr', chunk));
    return port;
  }

  /** Runs one invocation. Resolves (never rejects) with the outcome; kills the thread on timeout. */
  run(requestId: string, eventJson: string, timeoutSeconds: number): Promise<RunOutcome> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.emitLine(`${requestId} Task timed out after ${timeoutSeconds.toFixed(2)} seconds`);
        this.kill('timeout');
        finish({
          ok: false,
          timedOut: true,
          error: {
            errorType: RuntimeErrorType.Timeout,
            errorMessage: `RequestId: ${requestId} Error: Task timed out after ${timeoutSeconds.toFixed(2)} seconds`,
          },
        });
      }, timeoutSeconds * 1000);
      const finish = (outcome: RunOutcome) => {
        if (this.pending?.requestId !== requestId) return;
        clearTimeout(timer);
        this.pending = undefined;
        if (this.evicted) this.kill('failed');
        resolve(outcome);
      };
      this.pending = { requestId, settle: finish };
      const deadline = Date.now() + timeoutSeconds * 1000;
      this.worker.postMessage({ type: 'invoke', requestId, eventJson, deadline });
    });
  }

  /**
   * Ends the sandbox. Safe to call more than once. `'timeout'`: its code may still be running (a
   * shared thread then retires, since it cannot stop that code).
   */
  kill(cause?: SandboxEndCause): void {
    this.dead = true;
    if (cause) this.failed = true;
    void this.worker.terminate(cause);
  }

  private onMessage(message: WorkerMessage): void {
    switch (message.type) {
      case 'ready':
        this.settleReady(undefined);
        return;
      case 'init-error':
        this.kill('failed');
        this.settleReady(message.error);
        return;
      case 'evict':
        this.onEvict(message.reason, message.reload === true);
        return;
      case 'relocate':
        // Its thread was found tainted before it loaded: load on another shared thread.
        this.worker.terminate();
        this.worker = this.open(this.options.pool?.());
        return;
      case 'log': {
        const id = message.requestId ? `${message.requestId} ` : '';
        for (const line of message.message.split('\n')) this.emitLine(`${id}${message.level} ${line}`);
        return;
      }
      case 'result':
        if (this.pending?.requestId !== message.requestId) return;
        if (message.ok) {
          this.pending.settle({
            ok: true,
            timedOut: false,
            response: message.responseJson === undefined ? null : JSON.parse(message.responseJson),
          });
        } else {
          this.pending.settle({
            ok: false,
            timedOut: false,
            error: message.error ?? { errorType: 'Error', errorMessage: 'unknown' },
          });
        }
        return;
    }
  }

  /**
   * Leaves the shared thread. `reload`: it could not load there, so it starts again in a thread of
   * its own (its init timer runs on). Otherwise it ends once it has answered the invocation in
   * flight or the one it was started for, so its init never runs twice.
   */
  private onEvict(reason: string, reload: boolean): void {
    if (this.dead) return;
    if (reload && !this.readyDone) {
      this.options.onEvict?.(reason);
      this.evicted = false;
      this.worker.terminate('failed');
      this.worker = this.open(undefined);
      return;
    }
    if (this.evicted) return;
    this.options.onEvict?.(reason);
    this.evicted = true;
    if (this.readyDone && !this.pending) this.kill('failed');
  }

  private onCrash(error: Error & { code?: string }): void {
    this.dead = true;
    this.failed = true;
    const failure: InvokeError = {
      errorType:
        error.code === 'ERR_WORKER_OUT_OF_MEMORY' ? RuntimeErrorType.OutOfMemory : error.name || 'Error',
      errorMessage: error.message,
      stack: error.stack?.split('\n'),
    };
    this.emitLine(`ERROR Uncaught ${failure.errorType}: ${failure.errorMessage}`);
    this.settleReady(failure);
    this.pending?.settle({ ok: false, timedOut: false, error: failure });
  }

  private onExit(code: number): void {
    // A shared thread that ends or retires recycles its idle sandboxes with exit code 0.
    if (!this.dead && code !== 0) this.failed = true;
    this.dead = true;
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.partialLine[stream]) this.emitLine(this.partialLine[stream]);
      this.partialLine[stream] = '';
    }
    const failure: InvokeError = {
      errorType: RuntimeErrorType.ExitError,
      errorMessage: `Runtime exited with error: exit status ${code}`,
    };
    this.settleReady(failure);
    this.pending?.settle({
      ok: false,
      timedOut: false,
      error: {
        ...failure,
        errorMessage: `RequestId: ${this.pending.requestId} Error: ${failure.errorMessage}`,
      },
    });
  }

  /** Raw writes to process.stdout/stderr inside the worker, split into lines. */
  private onOutput(stream: 'stdout' | 'stderr', chunk: Buffer): void {
    const text = this.partialLine[stream] + chunk.toString('utf8');
    const lines = text.split('\n');
    this.partialLine[stream] = lines.pop() ?? '';
    for (const line of lines) this.emitLine(line);
  }

  private emitLine(text: string): void {
    this.options.emit(`[${this.options.functionName}] ${text}`, this.sink);
  }
}
