/**
 * Long polls whose client has gone, on top of fauxqs 1.9.x.
 *
 * fauxqs keeps a ReceiveMessage long poll waiting after its client aborted the request (an SDK
 * `abortSignal`, a process shutting down, a closed socket), and when a message then arrives it takes
 * it into flight for nobody: invisible for the visibility timeout, its receive count raised, so with
 * a low maxReceiveCount it can reach the DLQ without any consumer ever seeing it. A receive whose
 * connection closed has no one to answer, so here it stops waiting and takes nothing.
 *
 * Done for every client (the local event source mappings stop this way, but so may a function, a
 * test or the CLI): a Fastify `preHandler` hook runs each ReceiveMessage handler inside an
 * AsyncLocalStorage context holding its connection, and a subclass of fauxqs' queue class reads that
 * context in its long-poll wait and its dequeue. fauxqs itself is not changed.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

interface Emitter {
  once(event: string, listener: () => void): unknown;
  off(event: string, listener: () => void): unknown;
}

/** The connection of one ReceiveMessage request. */
interface ReceiveConnection {
  /** Node's ServerResponse: emits 'close' when the connection closes, also before a response. */
  response: Emitter & { readonly destroyed: boolean; readonly writableEnded: boolean };
  /**
   * Its socket: emits 'end' as soon as the client's side closed, before the server has closed its
   * own side and the response emits 'close'; a message arriving in between must not be taken.
   */
  socket: (Emitter & { readonly readableEnded: boolean }) | null;
  /** Set once the connection closed before the response was sent. */
  gone: boolean;
}

const currentReceive = new AsyncLocalStorage<ReceiveConnection>();

interface PollWaiter {
  resolve: () => void;
  timer: ReturnType<typeof setTimeout>;
}

/** The members of fauxqs' `SqsQueue` this subclass relies on. */
interface PollingQueue {
  pollWaiters: PollWaiter[];
  waitForMessages(waitTimeSeconds: number): Promise<void>;
  dequeue(...args: unknown[]): unknown[];
}

// biome-ignore lint/suspicious/noExplicitAny: fauxqs' constructor signature is its own business.
type PollingQueueClass = new (...args: any[]) => PollingQueue;

/** The subset of a Fastify instance used here. */
export interface PreHandlerApp {
  addHook(
    name: 'preHandler',
    hook: (
      request: { headers: Record<string, string | string[] | undefined> },
      reply: { raw: ReceiveConnection['response'] & { socket: ReceiveConnection['socket'] } },
      done: () => void,
    ) => void,
  ): unknown;
}

/** Registers the hook that gives each ReceiveMessage handler its connection (before the app listens). */
export function trackReceiveConnections(app: PreHandlerApp): void {
  app.addHook('preHandler', (request, reply, done) => {
    if (request.headers['x-amz-target'] !== 'AmazonSQS.ReceiveMessage') {
      done();
      return;
    }
    // Fastify calls the route handler synchronously from done(), so it runs inside this context.
    currentReceive.run({ response: reply.raw, socket: reply.raw.socket, gone: false }, done);
  });
}

/** A subclass of fauxqs' `SqsQueue` whose long polls end, empty-handed, when their client has gone. */
// biome-ignore lint/suspicious/noExplicitAny: any fauxqs queue class; its members are checked below.
export function abandonedReceiveQueueClass<T extends new (...args: any[]) => object>(Queue: T): T {
  const Base = Queue as unknown as PollingQueueClass;
  const proto = Base.prototype as Partial<PollingQueue>;
  if (typeof proto.waitForMessages !== 'function' || typeof proto.dequeue !== 'function') {
    throw new Error(
      'The installed fauxqs has no SqsQueue.waitForMessages/dequeue; local/fauxqs-abandoned-receive.ts was written ' +
        'for fauxqs 1.9.x. Install the version package.json pins (npm ci).',
    );
  }
  class AbandonedReceiveQueue extends Base {
    override waitForMessages(waitTimeSeconds: number): Promise<void> {
      const receive = currentReceive.getStore();
      if (receive && hasGone(receive)) return Promise.resolve();
      const waiting = super.waitForMessages(waitTimeSeconds);
      // fauxqs registers the waiter synchronously, as the last one.
      const waiter = this.pollWaiters.at(-1);
      if (!receive || !waiter) return waiting;
      const onClose = () => {
        if (!hasGone(receive)) return;
        const index = this.pollWaiters.indexOf(waiter);
        if (index === -1) return;
        this.pollWaiters.splice(index, 1);
        clearTimeout(waiter.timer);
        waiter.resolve();
      };
      receive.response.once('close', onClose);
      receive.socket?.once('end', onClose);
      return waiting.finally(() => {
        receive.response.off('close', onClose);
        receive.socket?.off('end', onClose);
      });
    }

    override dequeue(...args: unknown[]): unknown[] {
      const receive = currentReceive.getStore();
      if (receive && hasGone(receive)) return [];
      return super.dequeue(...args);
    }
  }
  return AbandonedReceiveQueue as unknown as T;
}

function hasGone(receive: ReceiveConnection): boolean {
  const { response, socket } = receive;
  if (!receive.gone && !response.writableEnded && (response.destroyed || socket?.readableEnded === true))
    receive.gone = true;
  return receive.gone;
}
