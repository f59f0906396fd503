/**
 * What a shared thread cannot give each sandbox by itself: its own global object and built-in
 * prototypes. In Lambda a function that sets `globalThis.client ??= new SQSClient()` or patches
 * `Array.prototype` changes its own sandbox only; in a shared thread its neighbours would see it
 * (another function's client, signed with another role's credentials). So the thread watches:
 * - a new global that a sandbox added while loading its code (a synchronous window, so the author
 *   is known) becomes a global per sandbox, an accessor that answers each sandbox its own value:
 *   zod, bundled into every function, adds two this way;
 * - any other change (a global replaced, a prototype patched, or a new global whose author cannot
 *   be told apart) is reported, and the host moves the suspects' functions to threads of their own.
 * Changes made while loading a thread-wide module (the runtime's SDK) are the thread's, as they
 * would be in every sandbox alike, and are not reported.
 */
const { currentScope } = require('./scopes');

/** Built-in prototypes and namespaces whose own properties are watched besides the globals. */
const WATCHED = [
  ['globalThis', globalThis],
  ['Object.prototype', Object.prototype],
  ['Array.prototype', Array.prototype],
  ['Function.prototype', Function.prototype],
  ['String.prototype', String.prototype],
  ['Number.prototype', Number.prototype],
  ['Promise.prototype', Promise.prototype],
  ['Error.prototype', Error.prototype],
  ['Error', Error],
  ['Map.prototype', Map.prototype],
  ['Set.prototype', Set.prototype],
  ['Date.prototype', Date.prototype],
  ['JSON', JSON],
  ['Math', Math],
  ['console', console],
];

/** The value (or accessor pair) of every watched own property. */
function snapshot() {
  const state = new Map();
  for (const [name, target] of WATCHED) {
    for (const key of Reflect.ownKeys(target)) {
      const descriptor = Object.getOwnPropertyDescriptor(target, key);
      if (!descriptor) continue;
      state.set(
        `${name}\u0000${String(key)}`,
        'value' in descriptor ? descriptor.value : [descriptor.get, descriptor.set],
      );
    }
  }
  return state;
}

function same(a, b) {
  if (Array.isArray(a) && Array.isArray(b)) return a[0] === b[0] && a[1] === b[1];
  return Object.is(a, b);
}

/** Node defines some globals lazily (a getter that installs the value on first use). */
function settleLazyGlobals() {
  for (const key of Reflect.ownKeys(globalThis)) {
    try {
      void globalThis[key];
    } catch {
      // A global that throws on access stays as it is.
    }
  }
}

class ThreadState {
  constructor() {
    settleLazyGlobals();
    /** The thread's own state: what the runtime set up, and what thread-wide modules changed. */
    this.baseline = snapshot();
    this.sharedLoads = 0;
  }

  /** Runs the load of a thread-wide module; what that load changes becomes the thread's state. */
  sharedLoad(load) {
    const before = this.sharedLoads === 0 ? snapshot() : undefined;
    this.sharedLoads += 1;
    try {
      return load();
    } finally {
      this.sharedLoads -= 1;
      if (before) {
        const after = snapshot();
        for (const [key, value] of after) {
          if (!before.has(key) || !same(before.get(key), value)) this.baseline.set(key, value);
        }
        for (const key of before.keys()) if (!after.has(key)) this.baseline.delete(key);
      }
    }
  }

  /**
   * Settles what changed since the last look, given the sandboxes whose code may have run
   * meanwhile. `loadedBy`: only this sandbox's code ran (its synchronous load), so the new globals
   * become its own. Returns what remains ("globalThis.client", ...), which the suspects must answer
   * for by leaving the thread, or undefined.
   */
  settle(suspects, loadedBy) {
    const now = snapshot();
    const changed = [];
    for (const [key, value] of now) {
      if (!this.baseline.has(key)) changed.push({ key, added: true });
      else if (!same(this.baseline.get(key), value)) changed.push({ key, added: false });
    }
    for (const key of this.baseline.keys()) if (!now.has(key)) changed.push({ key, added: false });
    if (changed.length === 0) return undefined;
    const owner = loadedBy;
    const remaining = [];
    for (const { key, added } of changed) {
      const [target, property] = key.split('\u0000');
      if (!(added && owner && target === 'globalThis' && this.ownGlobal(owner, property))) {
        remaining.push(`${target}.${property}`);
      }
    }
    this.baseline = snapshot();
    return remaining.length > 0 ? remaining : undefined;
  }

  /** Makes `name` a global per sandbox, `owner` keeping the value it set. False when it cannot. */
  ownGlobal(owner, name) {
    const descriptor = Object.getOwnPropertyDescriptor(globalThis, name);
    if (!descriptor?.configurable || !('value' in descriptor)) return false;
    const outside = new Map();
    const values = () => currentScope()?.sandbox.globals ?? outside;
    Object.defineProperty(globalThis, name, {
      configurable: true,
      enumerable: descriptor.enumerable,
      get: () => values().get(name),
      set: (value) => values().set(name, value),
    });
    owner.globals.set(name, descriptor.value);
    return true;
  }
}

module.exports = { ThreadState };
