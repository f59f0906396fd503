/**
 * The sandbox whose code is running, as AsyncLocalStorage sees it: every sandbox of a shared thread
 * runs inside its own context, which follows its callbacks, timers and promises.
 *
 * @typedef {{ id: string, config: any, env: Record<string, string>, handler?: Function,
 *   modules: Map<string, import('node:module')>, listeners: Map<string | symbol, Function[]>,
 *   globals: Map<string, unknown>, fenced: boolean, initChanges?: string }} Sandbox
 * @typedef {{ sandbox: Sandbox, requestId: string | null, deadline?: number, settled?: boolean }} Scope
 */
const { AsyncLocalStorage } = require('node:async_hooks');

/** @type {AsyncLocalStorage<Scope>} */
const scopes = new AsyncLocalStorage();

/** @returns {Scope | undefined} */
function currentScope() {
  return scopes.getStore();
}

/**
 * A sandbox whose invocation passed its deadline, or that the host unloaded or that ended, is
 * frozen: like a frozen Lambda sandbox, what its code left running has no new effects.
 */
function frozen(scope) {
  if (!scope) return false;
  if (scope.sandbox.fenced) return true;
  return !scope.settled && scope.deadline !== undefined && Date.now() > scope.deadline;
}

module.exports = { scopes, currentScope, frozen };
