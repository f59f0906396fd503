/**
 * Modules per sandbox: every module a sandbox's code requires is loaded once per sandbox, except
 * Node's built-ins and the runtime's AWS SDK (from NODE_PATH), which are the thread's one copy, as
 * /var/runtime/node_modules is the runtime's in every Lambda sandbox. Anything else resolved from
 * outside the code directory (a package of the host's node_modules, a symlinked library) is the
 * sandbox's own too: a module-level client there would otherwise carry one function's credentials
 * into another's calls.
 */
const fs = require('node:fs');
const Module = require('node:module');
const path = require('node:path');

/** Modules loaded by a sandbox's own code, so their requires stay inside that sandbox. */
const owners = new WeakMap();

/** The packages of the Node.js runtime's AWS SDK v3 (what a nodejs22.x sandbox finds in /var/runtime). */
const RUNTIME_SCOPES = new Set(['@aws-sdk', '@aws', '@smithy', '@aws-crypto']);
const RUNTIME_PACKAGES = new Set([
  'tslib',
  'fast-xml-parser',
  'strnum',
  'bowser',
  'uuid',
  'mnemonist',
  'obliterator',
]);

/** Where the runtime's SDK lives: NODE_PATH, as /var/runtime/node_modules is on Lambda's. */
const runtimeRoots = (process.env.NODE_PATH ?? '').split(path.delimiter).filter(Boolean);

/**
 * True for a file of the runtime's SDK: under NODE_PATH, in one of the packages above. The same
 * packages inside a function's own code are its own, loaded per sandbox.
 */
function isRuntimeSdk(file) {
  if (!runtimeRoots.some((root) => file.startsWith(root + path.sep))) return false;
  const parts = file.split(path.sep);
  const at = parts.lastIndexOf('node_modules');
  if (at === -1 || at + 1 >= parts.length) return false;
  const name = parts[at + 1];
  return name.startsWith('@') ? RUNTIME_SCOPES.has(name) : RUNTIME_PACKAGES.has(name);
}

/**
 * A module loaded through Node's ES module loader is cached for the whole thread: the sandbox
 * cannot have its own instance. Thrown so the host moves the function to a thread of its own.
 */
class SharedModuleError extends Error {
  constructor(file, { loaded = false } = {}) {
    super(`${file} is an ES module, which a shared thread cannot load once per sandbox`);
    this.name = 'SharedModuleError';
    /** Its code ran and Node cached it for the thread. */
    this.loaded = loaded;
  }
}

/** `"type"` of the nearest package.json above a directory, cached per directory. */
const packageTypes = new Map();
function packageType(dir) {
  if (packageTypes.has(dir)) return packageTypes.get(dir);
  let type;
  try {
    type = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).type ?? 'commonjs';
  } catch {
    const parent = path.dirname(dir);
    type = parent === dir ? 'commonjs' : packageType(parent);
  }
  packageTypes.set(dir, type);
  return type;
}

/** Known to be an ES module before loading it: `.mjs`, or `.js` under `"type": "module"`. */
function isEsModuleFile(file) {
  if (file.endsWith('.mjs')) return true;
  return file.endsWith('.js') && packageType(path.dirname(file)) === 'module';
}

function isModuleNamespace(value) {
  return Object.prototype.toString.call(value) === '[object Module]';
}

/** Loads `file` as the sandbox's own module (cached per sandbox). */
function loadOwnModule(sandbox, file, parent) {
  const cached = sandbox.modules.get(file);
  if (cached) return cached.exports;
  // Checked before loading, so that its code does not run on the shared thread first.
  if (isEsModuleFile(file)) throw new SharedModuleError(file);
  const module = new Module(file, parent);
  module.filename = file;
  module.paths = Module._nodeModulePaths(path.dirname(file));
  owners.set(module, sandbox);
  sandbox.modules.set(file, module);
  try {
    module.load(file);
  } catch (error) {
    sandbox.modules.delete(file);
    throw error;
  }
  // Node 20 can also require() a .js file that it detects as an ES module by its syntax: that one
  // has run and sits in the thread-wide ESM cache, so the thread must retire (see shared-bootstrap.js).
  if (isModuleNamespace(module.exports)) {
    sandbox.modules.delete(file);
    throw new SharedModuleError(file, { loaded: true });
  }
  return module.exports;
}

/**
 * Routes requires of a sandbox's modules. `onSharedLoad(run)` wraps the load of a thread-wide
 * module (see thread-state.js: what such a module changes is not the sandbox's doing);
 * `onEsModule(sandbox, error)` hears of an ES module a sandbox required (its function must leave).
 */
function installOwnModules(onSharedLoad, onEsModule) {
  const originalLoad = Module._load;
  Module._load = function load(request, parent, isMain) {
    const sandbox = parent ? owners.get(parent) : undefined;
    if (sandbox && !Module.isBuiltin(request)) {
      const file = Module._resolveFilename(request, parent, isMain);
      if (!isRuntimeSdk(file)) {
        try {
          return loadOwnModule(sandbox, file, parent);
        } catch (error) {
          if (error instanceof SharedModuleError) onEsModule(sandbox, error);
          throw error;
        }
      }
    }
    if (Module.isBuiltin(request)) return originalLoad.call(this, request, parent, isMain);
    return onSharedLoad(() => originalLoad.call(this, request, parent, isMain));
  };
}

module.exports = { installOwnModules, loadOwnModule, SharedModuleError };
