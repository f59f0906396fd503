/**
 * Worker threads shared by many sandboxes (isolation 'shared'), as many as the machine has cores.
 *
 * Why: with a thread per sandbox, every sandbox compiled and optimised its own copy of the AWS SDK,
 * and on a 2-core machine that was most of the local cloud's CPU (issue 13). Here the SDK is loaded
 * once per thread and every sandbox placed on the thread uses it warm, while keeping its own
 * modules, environment and logs (shared-bootstrap.js says how).
 *
 * What a shared thread cannot do for one sandbox, and what happens instead:
 * - stop its code mid-flight: a sandbox that timed out is unloaded and frozen (no new requests, no
 *   logs), and its thread retires: it takes no new sandboxes and ends once its other sandboxes have
 *   finished what they are running. Its idle sandboxes end with it; their functions start new ones
 *   on the next invocation, as Lambda recycles idle sandboxes whenever it likes;
 * - cap its memory: the function's memory size is not enforced (isolation 'thread' does that).
 */
import { EventEmitter } from 'node:events';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { runtimeNodePath } from './node-path';

export const SHARED_BOOTSTRAP_FILE = join(__dirname, 'shared-bootstrap.js');

/** Why a sandbox is ended by its host, when not simply unloaded. */
export type SandboxEndCause = 'timeout' | 'failed';

/** What a FunctionInstance needs from whatever hosts its sandbox: a Worker, or a SandboxChannel. */
export interface SandboxPort {
  readonly stdout: NodeJS.ReadableStream;
  readonly stderr: NodeJS.ReadableStream;
  /**
   * 'message': the sandbox protocol (see worker-bootstrap.js), whose shapes the instance knows;
   * 'error': the sandbox crashed; 'exit': it ended, with an exit code.
   */
  // biome-ignore lint/suspicious/noExplicitAny: the listener type of Worker and EventEmitter, which both fit here
  on(event: 'message' | 'error' | 'exit', listener: (...args: any[]) => void): unknown;
  postMessage(message: unknown): void;
  /**
   * Ends the sandbox; 'exit' follows. `'timeout'` or `'failed'` (a crash, a failed init): code it
   * left behind may still be running, so a shared thread retires.
   */
  terminate(cause?: SandboxEndCause): unknown;
}

export interface SandboxPoolOptions {
  /** Threads to share. @default the machine's cores */
  readonly threads?: number;
  /** Node flags of the threads. */
  readonly execArgv?: string[];
  /** Lines a thread writes outside any sandbox. @default - dropped */
  readonly log?: (line: string) => void;
}

interface SandboxMessage {
  type: string;
  sandboxId: string | null;
  [key: string]: unknown;
}

/** The thread's own variables; each sandbox brings its own environment. */
function threadEnvironment(): Record<string, string> {
  const env: Record<string, string> = {
    NODE_PATH: runtimeNodePath(),
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  for (const key of ['PATH', 'LANG']) if (process.env[key]) env[key] = process.env[key]!;
  return env;
}

/** One sandbox inside a shared thread, seen from the host. */
class SandboxChannel extends EventEmitter implements SandboxPort {
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  /** Loading or running an invocation: its thread waits for it before ending. */
  busy = true;

  constructor(
    private readonly thread: SharedThread,
    readonly id: string,
  ) {
    super();
  }

  postMessage(message: { type: string }): void {
    if (message.type === 'invoke') this.busy = true;
    this.thread.send({ ...message, sandboxId: this.id });
  }

  terminate(cause?: SandboxEndCause): void {
    this.busy = false;
    // As a Worker does after terminate(): 'exit' tells the instance, after the caller's own settling.
    if (this.thread.close(this, cause !== undefined)) setImmediate(() => this.emit('exit', 1));
  }

  receive(message: SandboxMessage): void {
    switch (message.type) {
      case 'output':
        (message.stream === 'stderr' ? this.stderr : this.stdout).write(String(message.text));
        return;
      case 'crash': {
        const payload = message.error as { errorType: string; errorMessage: string; stack?: string[] };
        const error = Object.assign(new Error(payload.errorMessage), { name: payload.errorType });
        error.stack = payload.stack?.join('\n') ?? error.stack;
        this.ended(() => {
          this.emit('error', error);
          this.emit('exit', 1);
        });
        return;
      }
      case 'exit':
        this.ended(() => this.emit('exit', Number(message.code)));
        return;
      case 'ready':
        // Still busy: a sandbox is loaded for an invocation, which its instance sends next.
        this.emit('message', message);
        return;
      case 'init-error':
      case 'result':
        this.busy = false;
        this.emit('message', message);
        this.thread.idle(this);
        return;
      default:
        this.emit('message', message);
    }
  }

  /**
   * The sandbox ended on its own (crash or exit): forget it, then tell the instance. Its timers and
   * sockets may live on (frozen), so the thread retires.
   */
  private ended(tell: () => void): void {
    this.busy = false;
    this.thread.close(this, true);
    tell();
  }

  /** Its thread ends: the instance learns at once, so no invocation is sent to it any more. */
  recycle(): void {
    this.busy = false;
    this.emit('exit', 0);
  }
}

class SharedThread {
  readonly channels = new Map<string, SandboxChannel>();
  /** Takes no new sandboxes; ends once none of its sandboxes is busy. */
  retiring = false;
  private readonly worker: Worker;
  private ended = false;

  constructor(
    readonly name: string,
    private readonly options: SandboxPoolOptions,
    private readonly onEnd: (thread: SharedThread) => void,
  ) {
    this.worker = new Worker(SHARED_BOOTSTRAP_FILE, {
      env: threadEnvironment(),
      execArgv: options.execArgv,
      stdout: true,
      stderr: true,
    });
    this.worker.on('message', (message: SandboxMessage) => this.route(message));
    this.worker.on('error', (error) => {
      // The whole thread failed (out of memory, or an error no sandbox owns): every sandbox on it,
      // and no new one may land on it before its 'exit'.
      this.retiring = true;
      for (const channel of this.channels.values()) channel.emit('error', error);
    });
    this.worker.on('exit', (code) => this.onExit(code));
    for (const stream of [this.worker.stdout, this.worker.stderr]) {
      stream.setEncoding('utf8');
      stream.on('data', (text: string) => {
        for (const line of text.split('\n')) if (line) this.options.log?.(`[${this.name}] ${line}`);
      });
    }
  }

  open(id: string, config: Record<string, unknown>, env: Record<string, string>): SandboxChannel {
    const channel = new SandboxChannel(this, id);
    this.channels.set(id, channel);
    this.send({ type: 'load', sandboxId: id, config, env });
    return channel;
  }

  send(message: unknown): void {
    if (!this.ended) this.worker.postMessage(message);
  }

  /**
   * Unloads a sandbox; `retire` when code it left may still run. False when it was already gone.
   */
  close(channel: SandboxChannel, retire: boolean): boolean {
    if (!this.detach(channel)) return false;
    if (retire) this.retire();
    else this.drainCheck();
    return true;
  }

  /** Takes no new sandboxes; idle ones end now, so no new invocation lands here; ends when drained. */
  retire(): void {
    if (!this.retiring) {
      this.retiring = true;
      for (const other of [...this.channels.values()]) if (!other.busy) this.recycle(other);
    }
    this.drainCheck();
  }

  /** A sandbox finished its work: on a retiring thread it ends, and the last one ends the thread. */
  idle(channel: SandboxChannel): void {
    if (this.retiring) this.recycle(channel);
    this.drainCheck();
  }

  async terminate(): Promise<void> {
    if (this.ended) return;
    this.retiring = true;
    for (const channel of [...this.channels.values()]) this.recycle(channel);
    await this.worker.terminate();
  }

  private drainCheck(): void {
    if (!this.retiring || this.ended) return;
    for (const channel of this.channels.values()) if (channel.busy) return;
    void this.terminate();
  }

  private recycle(channel: SandboxChannel): void {
    if (this.detach(channel)) channel.recycle();
  }

  /** Forgets a sandbox and unloads it in the thread; false when it was already gone. */
  private detach(channel: SandboxChannel): boolean {
    if (!this.channels.delete(channel.id)) return false;
    this.send({ type: 'unload', sandboxId: channel.id });
    return true;
  }

  private route(message: SandboxMessage): void {
    if (message.sandboxId === null) {
      if (message.type === 'log') this.options.log?.(`[${this.name}] ${message.level} ${message.message}`);
      if (message.type === 'tainted') {
        this.options.log?.(`[${this.name}] retires: ${String(message.reason)}`);
        this.retire();
      }
      return;
    }
    this.channels.get(message.sandboxId)?.receive(message);
  }

  private onExit(code: number): void {
    this.ended = true;
    const left = [...this.channels.values()];
    this.channels.clear();
    for (const channel of left) channel.emit('exit', code);
    this.onEnd(this);
  }
}

/**
 * @example
 * const pool = new SandboxPool();
 * const host = new FunctionHost(spec, { pool });
 * await host.invoke(event);
 * await host.stop();
 * await pool.stop();
 */
export class SandboxPool {
  readonly size: number;
  private readonly threads = new Set<SharedThread>();
  private serial = 0;
  private stopped = false;

  constructor(private readonly options: SandboxPoolOptions = {}) {
    this.size = Math.max(1, options.threads ?? availableParallelism());
  }

  /** Loads a sandbox on the least-loaded thread that is not retiring, starting one if fewer run. */
  open(config: Record<string, unknown>, env: Record<string, string>): SandboxPort {
    if (this.stopped) throw new Error('The sandbox pool is stopped: no sandbox can start on it.');
    const id = `sandbox-${++this.serial}`;
    return this.pick().open(id, config, env);
  }

  /** Threads started so far that still run (retiring ones included). */
  threadCount(): number {
    return this.threads.size;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.threads].map((thread) => thread.terminate()));
  }

  private pick(): SharedThread {
    const open = [...this.threads].filter((thread) => !thread.retiring);
    if (open.length < this.size) {
      const thread = new SharedThread(`sandbox-thread-${this.serial}`, this.options, (ended) =>
        this.threads.delete(ended),
      );
      this.threads.add(thread);
      return thread;
    }
    return open.reduce((least, thread) => (thread.channels.size < least.channels.size ? thread : least));
  }
}
