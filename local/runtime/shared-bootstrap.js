/**
 * The runtime of a worker thread that hosts many sandboxes (isolation 'shared', see
 * sandbox-pool.ts). Each sandbox is one Lambda execution environment: its own instance of the
 * function's modules, its own `process.env`, its own log stream. What they share is the one copy
 * of the runtime's AWS SDK (from NODE_PATH, as Lambda's /var/runtime/node_modules), compiled and
 * optimised once per thread instead of once per sandbox: that is what this mode buys (issue 13).
 *
 * How a sandbox stays itself in a shared thread: every sandbox runs inside an AsyncLocalStorage
 * context, which follows its callbacks, timers and promises.
 * - `process.env` is a view of the current context's environment.
 * - Modules under the function's code directory are loaded once per sandbox.
 * - Console and raw stdout/stderr writes are attributed to the context's sandbox and request.
 * - An uncaught exception or `process.exit` ends only the sandbox that caused it.
 * - After its invocation's deadline, or once the host fenced it, a sandbox can no longer send
 *   requests or log: Lambda freezes a timed-out sandbox, so its leftover code has no new effects.
 *
 * Protocol (every message carries sandboxId):
 *   host -> worker  load { config, env } | invoke { requestId, eventJson, deadline } | unload
 *   worker -> host  ready | init-error { error } | log { requestId, level, message }
 *                   | output { stream, text } | result { requestId, ok, ... }
 *                   | crash { error } | exit { code }
 */

const { parentPort } = require('node:worker_threads');
const { AsyncLocalStorage } = require('node:async_hooks');
const Module = require('node:module');
const http = require('node:http');
const https = require('node:https');
const path = require('node:path');
const { toErrorPayload, loadHandler, invoke, captureConsole } = require('./sandbox-runtime');

// NODE_PATH (the host's node_modules, standing in for the runtime's SDK) is in this thread's env.
Module._initPaths();

/**
 * @typedef {{ id: string, config: any, env: Record<string, string>, handler?: Function,
 *   modules: Map<string, Module>, fenced: boolean }} Sandbox
 * @typedef {{ sandbox: Sandbox, requestId: string | null, deadline?: number, settled?: boolean }} Scope
 */

/** @type {AsyncLocalStorage<Scope>} */
const scopes = new AsyncLocalStorage();
/** @type {Map<string, Sandbox>} */
const sandboxes = new Map();
/** Modules loaded by a sandbox's own code, so their requires stay inside that sandbox. */
const moduleOwners = new WeakMap();

// ---- process.env per sandbox -------------------------------------------------------------------

/** The thread's own variables, for code that runs outside any sandbox. */
const threadEnv = { ...process.env };
const currentEnv = () => scopes.getStore()?.sandbox.env ?? threadEnv;
const envView = new Proxy(
  {},
  {
    get: (_target, key) => (typeof key === 'string' ? currentEnv()[key] : undefined),
    set: (_target, key, value) => {
      // Node's process.env turns every value into a string.
      currentEnv()[key] = String(value);
      return true;
    },
    has: (_target, key) => key in currentEnv(),
    deleteProperty: (_target, key) => delete currentEnv()[key],
    ownKeys: () => Reflect.ownKeys(currentEnv()),
    getOwnPropertyDescriptor: (_target, key) => {
      const env = currentEnv();
      if (!Object.hasOwn(env, key)) return undefined;
      return { value: env[key], writable: true, enumerable: true, configurable: true };
    },
  },
);
Object.defineProperty(process, 'env', {
  value: envView,
  writable: true,
  enumerable: true,
  configurable: true,
});

// ---- modules per sandbox -----------------------------------------------------------------------

function isInside(dir, file) {
  const relative = path.relative(dir, file);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
}

function loadOwnModule(sandbox, file, parent) {
  const cached = sandbox.modules.get(file);
  if (cached) return cached.exports;
  const module = new Module(file, parent);
  module.filename = file;
  module.paths = Module._nodeModulePaths(path.dirname(file));
  moduleOwners.set(module, sandbox);
  sandbox.modules.set(file, module);
  try {
    module.load(file);
  } catch (error) {
    sandbox.modules.delete(file);
    throw error;
  }
  return module.exports;
}

// A require from a sandbox's module of a file in that sandbox's code directory gets the sandbox's
// own instance; everything else (the runtime's SDK, Node built-ins) is the thread's one copy.
const originalLoad = Module._load;
Module._load = function load(request, parent, isMain) {
  const sandbox = parent ? moduleOwners.get(parent) : undefined;
  if (sandbox && !Module.isBuiltin(request)) {
    const file = Module._resolveFilename(request, parent, isMain);
    if (isInside(sandbox.config.codeDir, file)) return loadOwnModule(sandbox, file, parent);
  }
  return originalLoad.call(this, request, parent, isMain);
};

// ---- a frozen sandbox has no new effects -------------------------------------------------------

function frozen(scope) {
  if (!scope) return false;
  if (scope.sandbox.fenced) return true;
  return !scope.settled && scope.deadline !== undefined && Date.now() > scope.deadline;
}

function frozenError() {
  const error = new Error(
    'This sandbox timed out or ended: like a frozen Lambda sandbox, its leftover code cannot send requests.',
  );
  error.code = 'ESANDBOXFROZEN';
  return error;
}

for (const module of [http, https]) {
  for (const method of ['request', 'get']) {
    const original = module[method];
    module[method] = function guarded(...args) {
      if (frozen(scopes.getStore())) throw frozenError();
      return original.apply(this, args);
    };
  }
}
if (typeof globalThis.fetch === 'function') {
  const originalFetch = globalThis.fetch;
  globalThis.fetch = function guardedFetch(...args) {
    if (frozen(scopes.getStore())) return Promise.reject(frozenError());
    return originalFetch.apply(this, args);
  };
}

// ---- output, attributed to the sandbox ---------------------------------------------------------

function post(sandbox, message) {
  parentPort.postMessage({ ...message, sandboxId: sandbox.id });
}

captureConsole((level, message) => {
  const scope = scopes.getStore();
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
    const scope = scopes.getStore();
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

// ---- a failure ends its own sandbox only -------------------------------------------------------

/** Thrown by process.exit inside a sandbox, to unwind the code that called it. */
class SandboxExit extends Error {
  constructor(code) {
    super(`process.exit(${code}) ended this sandbox`);
    this.name = 'SandboxExit';
  }
}

function end(sandbox, message) {
  if (sandbox.fenced) return;
  sandbox.fenced = true;
  sandboxes.delete(sandbox.id);
  post(sandbox, message);
}

const exitThread = process.exit.bind(process);
process.exit = function exit(code) {
  const scope = scopes.getStore();
  if (!scope) return exitThread(code);
  end(scope.sandbox, { type: 'exit', code: Number(code ?? process.exitCode ?? 0) });
  throw new SandboxExit(code);
};

process.on('uncaughtException', (error) => {
  const scope = scopes.getStore();
  if (error instanceof SandboxExit) return;
  if (!scope) {
    // Nothing to blame it on: the thread itself is broken, so it ends, and the host replaces it.
    console.error('Uncaught exception outside any sandbox:', error);
    exitThread(70);
    return;
  }
  end(scope.sandbox, { type: 'crash', error: toErrorPayload(error) });
});

// ---- the protocol ------------------------------------------------------------------------------

async function onLoad(message) {
  /** @type {Sandbox} */
  const sandbox = {
    id: message.sandboxId,
    config: message.config,
    env: message.env,
    modules: new Map(),
    fenced: false,
  };
  sandboxes.set(sandbox.id, sandbox);
  try {
    sandbox.handler = await scopes.run({ sandbox, requestId: null }, () =>
      loadHandler(sandbox.config, (file) => loadOwnModule(sandbox, file, null)),
    );
  } catch (error) {
    sandboxes.delete(sandbox.id);
    if (!sandbox.fenced) post(sandbox, { type: 'init-error', error: toErrorPayload(error) });
    return;
  }
  if (!sandbox.fenced) post(sandbox, { type: 'ready' });
}

async function onInvoke(message) {
  const sandbox = sandboxes.get(message.sandboxId);
  if (!sandbox) return;
  /** @type {Scope} */
  const scope = { sandbox, requestId: message.requestId, deadline: message.deadline, settled: false };
  const result = await scopes.run(scope, () => invoke(sandbox.config, sandbox.handler, message));
  scope.settled = true;
  if (!sandbox.fenced) post(sandbox, result);
}

parentPort.on('message', (message) => {
  switch (message.type) {
    case 'load':
      void onLoad(message);
      return;
    case 'invoke':
      void onInvoke(message);
      return;
    case 'unload': {
      const sandbox = sandboxes.get(message.sandboxId);
      if (sandbox) sandbox.fenced = true;
      sandboxes.delete(message.sandboxId);
      return;
    }
  }
});
