/**
 * The runtime of a worker thread that hosts many sandboxes (isolation 'shared', see
 * sandbox-pool.ts). Each sandbox is one Lambda execution environment: its own instance of the
 * function's modules, its own `process.env`, its own log stream, its own failures and process
 * listeners. What they share is the one copy of the runtime's AWS SDK (from NODE_PATH, as Lambda's
 * /var/runtime/node_modules), compiled and optimised once per thread instead of once per sandbox:
 * that is what this mode buys (issue 13).
 *
 * Every sandbox runs inside an AsyncLocalStorage context (shared/scopes.js) that follows its
 * callbacks, timers and promises; each module of shared/ keeps one thing per sandbox on top of it:
 * env-view.js (process.env), own-modules.js (its modules), freeze.js (no requests once frozen),
 * process-events.js (failures and process listeners), thread-state.js (globals it must not change).
 *
 * Protocol (every message carries sandboxId):
 *   host -> worker  load { config, env } | invoke { requestId, eventJson, deadline } | unload
 *   worker -> host  ready | init-error { error } | evict { reason, reload? } (before ready or a
 *                   result: the sandbox changed thread-wide state, see thread-state.js; with
 *                   reload, instead of ready: it could not load here)
 *                   | relocate (instead of ready: the thread was found tainted; load elsewhere)
 *                   | tainted { reason } (sandboxId null: the thread must retire at once)
 *                   | log { requestId, level, message } | output { stream, text }
 *                   | result { requestId, ok, ... } | crash { error } | exit { code }
 */

const { parentPort } = require('node:worker_threads');
const Module = require('node:module');
const { toErrorPayload, loadHandler, invoke, captureConsole } = require('./sandbox-runtime');
const { scopes, currentScope, frozen } = require('./shared/scopes');
const { installEnvView } = require('./shared/env-view');
const { installOwnModules, loadOwnModule, SharedModuleError } = require('./shared/own-modules');
const { installFreeze } = require('./shared/freeze');
const { installProcessEvents } = require('./shared/process-events');
const { ThreadState } = require('./shared/thread-state');

// NODE_PATH (the host's node_modules, standing in for the runtime's SDK) is in this thread's env.
Module._initPaths();

/** @type {Map<string, import('./shared/scopes').Sandbox>} */
const sandboxes = new Map();
/** Work in flight (loads, invocations) per sandbox id. */
const inFlight = new Map();
/** Sandboxes whose code may have run since the last look at the thread's state. */
let activeSinceCheck = new Set();

function post(sandbox, message) {
  parentPort.postMessage({ ...message, sandboxId: sandbox.id });
}

// ---- output, attributed to the sandbox ---------------------------------------------------------

captureConsole((level, message) => {
  const scope = currentScope();
  if (!scope) {
    parentPort.postMessage({ type: 'log', sandboxId: null, requestId: null, level, message });
    return;
  }
  if (frozen(scope)) return;
  post(scope.sandbox, { type: 'log', requestId: scope.requestId, level, message });
});

for (const stream of ['stdout', 'stderr']) {
  const target = process[stream];
  const originalWrite = target.write;
  target.write = function write(chunk, encoding, callback) {
    const scope = currentScope();
    if (!scope) return originalWrite.call(this, chunk, encoding, callback);
    const done = typeof encoding === 'function' ? encoding : callback;
    if (!frozen(scope)) {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      post(scope.sandbox, { type: 'output', stream, text });
    }
    if (typeof done === 'function') process.nextTick(done);
    return true;
  };
}

// ---- per-sandbox state on a shared thread ------------------------------------------------------

installEnvView();
installFreeze();
/** Ends a sandbox on its own failure: it is frozen at once, and the host hears why. */
function end(sandbox, message) {
  if (sandbox.fenced) return;
  sandbox.fenced = true;
  sandboxes.delete(sandbox.id);
  post(sandbox, message);
}
installProcessEvents(end);
const threadState = new ThreadState();
installOwnModules(
  (load) => threadState.sharedLoad(load),
  (sandbox, error) => {
    // While loading, onLoad reports it (with reload); during an invocation it is reported here.
    if (!sandbox.fenced && sandbox.handler) post(sandbox, { type: 'evict', reason: error.message });
  },
);

/**
 * Looks at the thread's globals and prototypes (thread-state.js) on behalf of the sandboxes whose
 * code may have run since the last look. A change that did not become one sandbox's own taints the
 * thread: the host retires it at once (no new sandbox or invocation lands on it). Code of sandboxes
 * interleaves, so the change cannot be pinned on one of several: every suspect is told to leave
 * (its function moves to threads of its own).
 * @returns whether anything was tainted, and why `sandbox` must leave (undefined if it need not)
 */
function settleThreadState(suspectIds, sandbox, loadedBy) {
  const suspects = [...suspectIds].flatMap((id) => sandboxes.get(id) ?? []);
  const changed = threadState.settle(loadedBy);
  if (!changed) return { tainted: false };
  threadTainted = true;
  const reason = `a sandbox changed ${changed.slice(0, 5).join(', ')}${changed.length > 5 ? ', ...' : ''}, which every sandbox of a shared thread would see`;
  // The suspects hear it first: an idle one would otherwise be recycled by the retirement unheard.
  for (const suspect of suspects) if (suspect !== sandbox) post(suspect, { type: 'evict', reason });
  parentPort.postMessage({ type: 'tainted', sandboxId: null, reason });
  return { tainted: true, reason: suspects.includes(sandbox) ? reason : undefined };
}

/** Looks on behalf of every sandbox that may have run code since the last look (but `except`). */
function settleSinceLastLook(sandbox, except) {
  if (except) activeSinceCheck.delete(except.id);
  const suspects = activeSinceCheck;
  activeSinceCheck = new Set(inFlight.keys());
  return settleThreadState(suspects, sandbox);
}

/** Set once a change retired this thread: no sandbox loads here any more. */
let threadTainted = false;

/** A sandbox about to load on a thread found tainted: it must load on another one. */
class Relocate extends Error {}

/**
 * Requires the handler file of a sandbox: earlier changes are settled first, so that what the
 * (synchronous) load changes is the loading sandbox's alone, and its new globals become its own.
 */
function requireForSandbox(sandbox, file) {
  // The loading sandbox has run no code yet: what changed before is not its doing.
  if (settleSinceLastLook(undefined, sandbox).tainted || threadTainted) throw new Relocate();
  const restore = threadState.hideForeignGlobals(sandbox);
  try {
    return loadOwnModule(sandbox, file, null);
  } finally {
    restore();
    // Also when the load threw: what it changed is this sandbox's, not a neighbour's.
    sandbox.initChanges = settleThreadState(new Set([sandbox.id]), sandbox, sandbox).reason;
  }
}

function begin(sandbox) {
  inFlight.set(sandbox.id, (inFlight.get(sandbox.id) ?? 0) + 1);
  activeSinceCheck.add(sandbox.id);
}

function finish(sandbox) {
  const left = (inFlight.get(sandbox.id) ?? 1) - 1;
  if (left > 0) inFlight.set(sandbox.id, left);
  else inFlight.delete(sandbox.id);
}

// ---- the protocol ------------------------------------------------------------------------------

async function onLoad(message) {
  /** @type {import('./shared/scopes').Sandbox} */
  const sandbox = {
    id: message.sandboxId,
    config: message.config,
    env: message.env,
    modules: new Map(),
    listeners: new Map(),
    globals: new Map(),
    fenced: false,
  };
  sandboxes.set(sandbox.id, sandbox);
  begin(sandbox);
  try {
    sandbox.handler = await scopes.run({ sandbox, requestId: null }, () =>
      loadHandler(sandbox.config, (file) => requireForSandbox(sandbox, file)),
    );
  } catch (error) {
    finish(sandbox);
    sandboxes.delete(sandbox.id);
    if (sandbox.fenced) return;
    if (error?.cause instanceof Relocate) {
      post(sandbox, { type: 'relocate' });
      return;
    }
    if (error?.cause instanceof SharedModuleError) {
      // No handler here: the sandbox must load again, in a thread of its own.
      post(sandbox, { type: 'evict', reason: error.cause.message, reload: true });
      return;
    }
    post(sandbox, { type: 'init-error', error: toErrorPayload(error) });
    return;
  }
  finish(sandbox);
  if (sandbox.fenced) return;
  // A sandbox whose init changed thread-wide state serves the invocation it was started for on
  // this (now retiring) thread rather than running its init a second time elsewhere.
  if (sandbox.initChanges) post(sandbox, { type: 'evict', reason: sandbox.initChanges });
  post(sandbox, { type: 'ready' });
}

async function onInvoke(message) {
  const sandbox = sandboxes.get(message.sandboxId);
  if (!sandbox) return;
  /** @type {import('./shared/scopes').Scope} */
  const scope = { sandbox, requestId: message.requestId, deadline: message.deadline, settled: false };
  begin(sandbox);
  const result = await scopes.run(scope, () => invoke(sandbox.config, sandbox.handler, message));
  scope.settled = true;
  finish(sandbox);
  if (sandbox.fenced) return;
  // Before the result: the host must move the sandbox out before it can take another invocation.
  const { reason } = settleSinceLastLook(sandbox);
  if (reason) post(sandbox, { type: 'evict', reason });
  post(sandbox, result);
}

/** A failure of the runtime's own handling of one sandbox ends that sandbox, never the thread. */
function guarded(work, message) {
  work(message).catch((error) => {
    const sandbox = sandboxes.get(message.sandboxId);
    if (sandbox) end(sandbox, { type: 'crash', error: toErrorPayload(error) });
  });
}

parentPort.on('message', (message) => {
  switch (message.type) {
    case 'load':
      guarded(onLoad, message);
      return;
    case 'invoke':
      guarded(onInvoke, message);
      return;
    case 'unload': {
      const sandbox = sandboxes.get(message.sandboxId);
      if (sandbox) {
        sandbox.fenced = true;
        sandbox.listeners.clear();
      }
      sandboxes.delete(message.sandboxId);
      inFlight.delete(message.sandboxId);
      return;
    }
  }
});
