/**
 * Failures and process listeners per sandbox. In Lambda every sandbox is a process of its own:
 * an uncaught exception, an unhandled rejection or `process.exit` ends that sandbox, and a
 * `process.on(...)` listener sees that process's events only. Here:
 * - listeners a sandbox adds to `process` are kept with the sandbox (dropped with it), not on the
 *   thread's process. Its 'uncaughtException' and 'unhandledRejection' listeners get the errors of
 *   its own code, as Node would call them; its other process events never fire (a thread's
 *   process events are not a sandbox's lifecycle);
 * - an uncaught exception or unhandled rejection that the sandbox has no listener for, and
 *   `process.exit`, end the sandbox in whose context they happen (`end(sandbox, message)`);
 * - one no sandbox owns ends the thread, and the host replaces it.
 */
const { toErrorPayload } = require('../sandbox-runtime');
const { currentScope } = require('./scopes');

/** Thrown by process.exit inside a sandbox, to unwind the code that called it. */
class SandboxExit extends Error {
  constructor(code) {
    super(`process.exit(${code}) ended this sandbox`);
    this.name = 'SandboxExit';
  }
}

const ADDERS = ['on', 'addListener', 'prependListener', 'once', 'prependOnceListener'];
const REMOVERS = ['off', 'removeListener'];

function keepListenersPerSandbox() {
  for (const name of ADDERS) {
    const original = process[name];
    process[name] = function add(event, listener) {
      const scope = currentScope();
      if (!scope) return original.call(this, event, listener);
      const once = name.includes('Once') || name === 'once';
      const wrapped = once
        ? Object.assign(
            (...args) => {
              remove(scope.sandbox, event, wrapped);
              return listener(...args);
            },
            { listener },
          )
        : listener;
      const list = scope.sandbox.listeners.get(event) ?? [];
      if (name.startsWith('prepend')) list.unshift(wrapped);
      else list.push(wrapped);
      scope.sandbox.listeners.set(event, list);
      return this;
    };
  }
  const removeAll = process.removeAllListeners;
  process.removeAllListeners = function removeAllListeners(...args) {
    const [event] = args;
    const scope = currentScope();
    if (!scope) return removeAll.apply(this, args);
    if (event === undefined) scope.sandbox.listeners.clear();
    else scope.sandbox.listeners.delete(event);
    return this;
  };
  for (const name of REMOVERS) {
    const original = process[name];
    process[name] = function off(event, listener) {
      const scope = currentScope();
      if (!scope) return original.call(this, event, listener);
      remove(scope.sandbox, event, listener);
      return this;
    };
  }
}

function remove(sandbox, event, listener) {
  const list = sandbox.listeners.get(event);
  if (!list) return;
  const index = list.findIndex((l) => l === listener || l.listener === listener);
  if (index !== -1) list.splice(index, 1);
}

/**
 * @param end ends a sandbox and tells the host: `end(sandbox, { type: 'crash', error })` or
 *   `end(sandbox, { type: 'exit', code })`
 */
function installProcessEvents(end) {
  keepListenersPerSandbox();

  const exitThread = process.exit.bind(process);
  process.exit = function exit(code) {
    const scope = currentScope();
    if (!scope) return exitThread(code);
    end(scope.sandbox, { type: 'exit', code: Number(code ?? process.exitCode ?? 0) });
    throw new SandboxExit(code);
  };

  /** Calls the sandbox's own listeners for `event`; false when it has none. */
  const dispatch = (sandbox, event, args) => {
    const listeners = [...(sandbox.listeners.get(event) ?? [])];
    if (listeners.length === 0) return false;
    for (const listener of listeners) {
      try {
        listener(...args);
      } catch (error) {
        // A listener that throws (or exits) ends its sandbox, as a throwing handler ends a process.
        if (!(error instanceof SandboxExit)) end(sandbox, { type: 'crash', error: toErrorPayload(error) });
        return true;
      }
    }
    return true;
  };

  const fail = (error, event, args) => {
    if (error instanceof SandboxExit) return;
    const scope = currentScope();
    if (!scope) {
      // Nothing to blame it on: the thread itself is broken, so it ends, and the host replaces it.
      console.error(
        `Uncaught ${event === 'unhandledRejection' ? 'rejection' : 'exception'} outside any sandbox:`,
        error,
      );
      exitThread(70);
      return;
    }
    if (scope.sandbox.fenced) return;
    if (dispatch(scope.sandbox, event, args)) return;
    end(scope.sandbox, { type: 'crash', error: toErrorPayload(error) });
  };
  // A listener of 'uncaughtException' that throws would end the thread: these never throw.
  const failSafely = (error, event, args) => {
    try {
      fail(error, event, args);
    } catch (inner) {
      console.error('Failure while handling a sandbox failure:', inner);
      exitThread(70);
    }
  };
  process.on('uncaughtException', (error, origin) => failSafely(error, 'uncaughtException', [error, origin]));
  process.on('unhandledRejection', (reason, promise) =>
    failSafely(reason, 'unhandledRejection', [reason, promise]),
  );
}

module.exports = { installProcessEvents };
