/**
 * `process.env` per sandbox: a view of the current sandbox's variables (the thread's own outside
 * any sandbox). Node's env turns every value into a string; so does the view.
 */
const { currentScope } = require('./scopes');

function installEnvView() {
  const threadEnv = { ...process.env };
  const current = () => currentScope()?.sandbox.env ?? threadEnv;
  const view = new Proxy(
    {},
    {
      get: (_target, key) => (typeof key === 'string' ? current()[key] : undefined),
      set: (_target, key, value) => {
        current()[key] = String(value);
        return true;
      },
      has: (_target, key) => key in current(),
      deleteProperty: (_target, key) => delete current()[key],
      ownKeys: () => Reflect.ownKeys(current()),
      getOwnPropertyDescriptor: (_target, key) => {
        const env = current();
        if (!Object.hasOwn(env, key)) return undefined;
        return { value: env[key], writable: true, enumerable: true, configurable: true };
      },
    },
  );
  Object.defineProperty(process, 'env', {
    value: view,
    writable: true,
    enumerable: true,
    configurable: true,
  });
}

module.exports = { installEnvView };
