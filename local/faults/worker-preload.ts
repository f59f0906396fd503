/**
 * Runs inside every function worker of a chaos run (bundled to CommonJS by build-preload.ts and
 * loaded by worker-bootstrap.js before the handler). It adds the SDK fault middleware to every
 * client the function creates, by patching `send` of the SDK's one `Client` base class (the SDK
 * stays external, resolved from node_modules like Lambda's runtime copy), and wraps the handler to
 * throw, hang past the timeout, or die after its effects.
 */
import { FaultCounters } from './counters';
import { type FaultKind, FaultKinds, Tallies } from './kinds';
import { randomStream } from './random';
import type { FaultRates } from './rates';
import { addFaultMiddleware, isPublish, type Service, type StackOwner } from './sdk-faults';

/** What the host passes to every worker (structured-cloned; the buffers stay shared). */
export interface WorkerFaultData {
  readonly seed: number;
  readonly rates: FaultRates;
  readonly counters: SharedArrayBuffer;
  /** One Int32: the next worker number, so each worker draws from its own named stream. */
  readonly workerSerial: SharedArrayBuffer;
  /** The outbox relay dies after publishing (before its checkpoint) instead of after any write. */
  readonly role: 'relay' | 'function';
}

/** Thrown by the wrapper in place of a bug in the handler. */
export class InjectedHandlerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InjectedHandlerError';
  }
}

let random: () => number = () => 1;
/** Set per invocation: this one dies right after its first applied write. */
let dieAfterNextWrite = false;
let counters: FaultCounters | undefined;
let rates: FaultRates | undefined;

function die(kind: typeof FaultKinds.WORKER_KILLED | typeof FaultKinds.RELAY_KILLED): never {
  counters?.add(kind);
  // In a worker thread, process.exit ends this thread only: the host sees the sandbox crash.
  process.exit(137);
}

/** With ensureEachKind: true while this kind has not been injected yet in the run. */
function firstTime(kind: FaultKind): boolean {
  return Boolean(rates?.ensureEachKind) && counters?.get(kind) === 0;
}

function afterApplied(role: WorkerFaultData['role']) {
  return (_service: Service, operation: string): void => {
    if (!rates) return;
    if (role === 'relay') {
      const kill = random() < rates.relayKill;
      if (isPublish(operation) && (kill || firstTime(FaultKinds.RELAY_KILLED))) die(FaultKinds.RELAY_KILLED);
      return;
    }
    if (dieAfterNextWrite) die(FaultKinds.WORKER_KILLED);
  };
}

export function install(data: WorkerFaultData, worker: { functionName: string }): void {
  const serial = Atomics.add(new Int32Array(data.workerSerial), 0, 1);
  random = randomStream(data.seed, `${worker.functionName}#${serial}`);
  counters = new FaultCounters(data.counters);
  rates = data.rates;
  const options = { random: () => random(), counters, rates, afterApplied: afterApplied(data.role) };
  const { Client } = require('@smithy/core/client') as {
    Client: { prototype: { send(...args: unknown[]): unknown } };
  };
  const decorated = new WeakSet<object>();
  const send = Client.prototype.send;
  Client.prototype.send = function sendWithFaults(this: StackOwner, ...args: unknown[]) {
    // A DynamoDBDocumentClient shares its inner client's stack: decorate each stack once.
    if (!decorated.has(this.middlewareStack)) {
      decorated.add(this.middlewareStack);
      addFaultMiddleware(this, options);
    }
    return send.apply(this, args);
  };
}

type AsyncHandler = (event: unknown, context: unknown) => Promise<unknown>;

/** Wraps a promise-returning handler; a callback-style one (3 parameters) is left alone. */
export function wrapHandler(handler: AsyncHandler): AsyncHandler {
  if (handler.length >= 3) return handler;
  return async (event, context) => {
    if (!rates || !counters) return handler(event, context);
    counters.add(Tallies.INVOCATIONS);
    const kill = random() < rates.workerKill;
    let draw = random();
    // ensureEachKind: the first invocations of the run take the kinds not injected yet, in turn.
    if (firstTime(FaultKinds.HANDLER_EXCEPTION)) draw = 0;
    else if (firstTime(FaultKinds.FUNCTION_TIMEOUT)) draw = rates.handlerException;
    dieAfterNextWrite =
      kill || (draw >= rates.handlerException + rates.functionTimeout && firstTime(FaultKinds.WORKER_KILLED));
    if (draw < rates.handlerException / 2) {
      counters.add(FaultKinds.HANDLER_EXCEPTION);
      throw new InjectedHandlerError('Injected handler exception before the handler ran');
    }
    const result = await handler(event, context);
    if (draw < rates.handlerException) {
      counters.add(FaultKinds.HANDLER_EXCEPTION);
      throw new InjectedHandlerError('Injected handler exception after the handler applied its effects');
    }
    if (draw < rates.handlerException + rates.functionTimeout) {
      counters.add(FaultKinds.FUNCTION_TIMEOUT);
      // The work is done, the answer never comes: the host kills the sandbox at the timeout.
      await new Promise(() => undefined);
    }
    return result;
  };
}
