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

const events = require('node:events');

/**
 * What is watched: the globals, built-in prototypes and namespaces, and the exports of the built-in
 * modules that instrumentation patches (an X-Ray `captureHTTPsGlobal` wraps `https.request`).
 * `strings`: only string keys (console keeps its group indent under a symbol).
 */
const WATCHED = [
  ['globalThis', globalThis],
  ...[
    Object,
    Array,
    Function,
    String,
    Number,
    Boolean,
    BigInt,
    Symbol,
    Promise,
    Error,
    Map,
    Set,
    RegExp,
    Date,
    Uint8Array,
  ].flatMap((type) => [
    [type.name, type],
    [`${type.name}.prototype`, type.prototype],
  ]),
  ['JSON', JSON],
  ['Math', Math],
  ['Reflect', Reflect],
  ['Buffer', Buffer],
  ['EventEmitter.prototype', events.EventEmitter.prototype],
  ...['http', 'https', 'net', 'tls', 'dns', 'events'].map((name) => [name, require(`node:${name}`)]),
  ['console', console, { strings: true }],
];

function watchedKeys(target, options) {
  const keys = Reflect.ownKeys(target);
  return options?.strings ? keys.filter((key) => typeof key === 'string') : keys;
}

/**
 * The watched properties, in order per target: own keys, and each one's value (a getter for an
 * accessor) and setter. Cheap to compare as a whole, which is the common case after an invocation.
 */
function fingerprint() {
  return WATCHED.map(([name, target, options]) => {
    const keys = watchedKeys(target, options);
    const values = [];
    const setters = [];
    for (const key of keys) {
      const descriptor = Object.getOwnPropertyDescriptor(target, key);
      values.push(descriptor && ('value' in descriptor ? descriptor.value : descriptor.get));
      setters.push(descriptor?.set);
    }
    return { name, keys, values, setters };
  });
}

function sameFingerprint(a, b) {
  for (let t = 0; t < a.length; t++) {
    const x = a[t];
    const y = b[t];
    if (x.keys.length !== y.keys.length) return false;
    for (let i = 0; i < x.keys.length; i++) {
      if (x.keys[i] !== y.keys[i] || !Object.is(x.values[i], y.values[i]) || x.setters[i] !== y.setters[i]) {
        return false;
      }
    }
  }
  return true;
}

/** The same properties keyed by target and key, to tell which ones changed. */
function snapshot(print = fingerprint()) {
  const state = new Map();
  for (const { name, keys, values, setters } of print) {
    keys.forEach((key, i) => {
      state.set(`${name}\u0000${String(key)}`, { name, key, value: values[i], set: setters[i] });
    });
  }
  return state;
}

function same(a, b) {
  return Object.is(a.value, b.value) && a.set === b.set;
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
    /** Globals made per sandbox: their accessor descriptors. */
    this.perSandbox = new Map();
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
        for (const [id, entry] of after) {
          if (!before.has(id) || !same(before.get(id), entry)) this.baseline.set(id, entry);
        }
        for (const key of before.keys()) if (!after.has(key)) this.baseline.delete(key);
      }
    }
  }

  /**
   * Settles what changed since the last look. `loadedBy`: only this sandbox's code ran meanwhile
   * (its synchronous load), so the new globals become its own. Returns what remains
   * ("globalThis.client", ...), for which the thread must retire, or undefined.
   */
  settle(loadedBy) {
    // The common case, nothing changed, without building the full snapshot.
    const print = fingerprint();
    if (this.print && sameFingerprint(this.print, print)) return undefined;
    this.print = print;
    const now = snapshot(print);
    const changed = [];
    for (const [id, entry] of now) {
      const before = this.baseline.get(id);
      if (!before) changed.push({ ...entry, added: true });
      else if (!same(before, entry)) changed.push({ ...entry, added: false });
    }
    for (const [id, entry] of this.baseline) if (!now.has(id)) changed.push({ ...entry, added: false });
    if (changed.length === 0) return undefined;
    const remaining = [];
    for (const { name, key, added } of changed) {
      // New, or a per-sandbox global the loader redefined for itself (core-js defines its store so).
      const ownable = name === 'globalThis' && (added || this.perSandbox.has(key));
      if (!(ownable && loadedBy && this.ownGlobal(loadedBy, key))) remaining.push(`${name}.${String(key)}`);
    }
    this.print = fingerprint();
    this.baseline = snapshot(this.print);
    return remaining.length > 0 ? remaining : undefined;
  }

  /** Makes `key` a global per sandbox, `owner` keeping the value it set. False when it cannot. */
  ownGlobal(owner, key) {
    const descriptor = Object.getOwnPropertyDescriptor(globalThis, key);
    if (!descriptor?.configurable || !('value' in descriptor)) return false;
    owner.globals.set(key, descriptor.value);
    let accessor = this.perSandbox.get(key);
    if (!accessor) {
      const outside = new Map();
      const values = () => currentScope()?.sandbox.globals ?? outside;
      accessor = {
        configurable: true,
        enumerable: descriptor.enumerable,
        get: () => values().get(key),
        set: (value) => values().set(key, value),
      };
      this.perSandbox.set(key, accessor);
    }
    Object.defineProperty(globalThis, key, accessor);
    return true;
  }

  /**
   * While `sandbox` loads, the per-sandbox globals it has no value for are removed, so that its
   * code finds them absent, as in a fresh sandbox (`if (!('X' in globalThis)) ...` polyfills).
   * Returns the function that puts them back, keeping what the sandbox defined under those names.
   */
  hideForeignGlobals(sandbox) {
    const hidden = [...this.perSandbox.keys()].filter((key) => !sandbox.globals.has(key));
    for (const key of hidden) delete globalThis[key];
    return () => {
      for (const key of hidden) {
        const own = Object.getOwnPropertyDescriptor(globalThis, key);
        if (own && 'value' in own) sandbox.globals.set(key, own.value);
        Object.defineProperty(globalThis, key, this.perSandbox.get(key));
      }
    };
  }
}

module.exports = { ThreadState };
