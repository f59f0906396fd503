/**
 * Modules per sandbox: a file under the function's code directory is loaded once per sandbox, also
 * when required from another of its files; everything else (the runtime's SDK from NODE_PATH, Node
 * built-ins) is the thread's one copy, as /var/runtime/node_modules is the runtime's.
 */
const Module = require('node:module');
const path = require('node:path');

/** Modules loaded by a sandbox's own code, so their requires stay inside that sandbox. */
const owners = new WeakMap();

function isInside(dir, file) {
  const relative = path.relative(dir, file);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
}

/**
 * A module loaded through Node's ES module loader is cached for the whole thread: the sandbox
 * cannot have its own instance. Thrown so the host moves the function to a thread of its own.
 */
class SharedModuleError extends Error {
  constructor(file) {
    super(`${file} is an ES module, which a shared thread cannot load once per sandbox`);
    this.name = 'SharedModuleError';
  }
}

function isModuleNamespace(value) {
  return Object.prototype.toString.call(value) === '[object Module]';
}

/** Loads `file` as the sandbox's own module (cached per sandbox). */
function loadOwnModule(sandbox, file, parent) {
  const cached = sandbox.modules.get(file);
  if (cached) return cached.exports;
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
  // Node 20 can require() an ES module (module syntax detection): it lands in the thread-wide ESM cache.
  if (file.endsWith('.mjs') || isModuleNamespace(module.exports)) throw new SharedModuleError(file);
  return module.exports;
}

/**
 * Routes requires of a sandbox's modules. `onSharedLoad(run)` wraps the load of a thread-wide
 * module (see thread-state.js: what such a module changes is not the sandbox's doing).
 */
function installOwnModules(onSharedLoad) {
  const originalLoad = Module._load;
  Module._load = function load(request, parent, isMain) {
    const sandbox = parent ? owners.get(parent) : undefined;
    if (sandbox && !Module.isBuiltin(request)) {
      const file = Module._resolveFilename(request, parent, isMain);
      if (isInside(sandbox.config.codeDir, file)) return loadOwnModule(sandbox, file, parent);
    }
    if (Module.isBuiltin(request)) return originalLoad.call(this, request, parent, isMain);
    return onSharedLoad(() => originalLoad.call(this, request, parent, isMain));
  };
}

module.exports = { installOwnModules, loadOwnModule, SharedModuleError };
