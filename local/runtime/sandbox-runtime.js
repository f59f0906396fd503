/**
 * What every local sandbox does the same way, whichever thread hosts it (worker-bootstrap.js: one
 * sandbox per thread; shared-bootstrap.js: many per thread): resolve and load the handler with
 * Lambda's init error types, build the Lambda context, run any handler style, report errors as
 * Lambda does, and turn console calls into log messages. Plain CommonJS for the same reason as the
 * bootstraps: a worker's loader does not know TypeScript.
 */
const path = require('node:path');
const fs = require('node:fs');
const util = require('node:util');
const { pathToFileURL } = require('node:url');

/** Lambda's error object: errorType is the error's name, trace the stack lines. */
function toErrorPayload(error) {
  if (error instanceof Error) {
    return {
      errorType: error.name || 'Error',
      errorMessage: error.message,
      stack: typeof error.stack === 'string' ? error.stack.split('\n') : [],
    };
  }
  // Lambda reports a thrown non-Error with its JavaScript type as errorType.
  return { errorType: typeof error, errorMessage: typeof error === 'string' ? error : describe(error) };
}

/** JSON if it can be (a BigInt or a cycle cannot), else String(), else a placeholder: never throws. */
function describe(value) {
  try {
    const json = JSON.stringify(value);
    if (json !== undefined) return json;
  } catch {
    // Falls through to String().
  }
  try {
    return String(value);
  } catch {
    return `[unprintable ${typeof value}]`;
  }
}

function resolveHandlerFile(codeDir, moduleName) {
  const base = path.resolve(codeDir, moduleName);
  for (const candidate of [base, `${base}.js`, `${base}.cjs`, `${base}.mjs`]) {
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

function runtimeError(name, message) {
  const error = new Error(message);
  error.name = name;
  return error;
}

/**
 * Loads the handler named by `config.handler` ('<file>.<export>') from `config.codeDir`.
 * `loadFile(file)` loads the handler's file (its exports, or a promise of them): `require` or
 * `import()` for a sandbox alone in its thread, a module instance of its own for a sandbox sharing one.
 */
async function loadHandler(config, loadFile) {
  const dot = config.handler.lastIndexOf('.');
  if (dot <= 0 || dot === config.handler.length - 1) {
    throw runtimeError(
      'Runtime.MalformedHandlerName',
      `Bad handler '${config.handler}': expected '<file>.<exported function>', for example 'index.handler'.`,
    );
  }
  const moduleName = config.handler.slice(0, dot);
  const exportName = config.handler.slice(dot + 1);
  const file = resolveHandlerFile(config.codeDir, moduleName);
  if (!file) {
    throw runtimeError(
      'Runtime.ImportModuleError',
      `Cannot find module '${moduleName}' in ${config.codeDir} (handler '${config.handler}').`,
    );
  }
  let loaded;
  try {
    loaded = await loadFile(file);
  } catch (cause) {
    const error = runtimeError(
      'Runtime.ImportModuleError',
      `Error loading ${file}: ${cause?.message ? cause.message : String(cause)}`,
    );
    error.stack = cause?.stack ? cause.stack : error.stack;
    error.cause = cause;
    throw error;
  }
  const fn = loaded ? loaded[exportName] : undefined;
  if (typeof fn !== 'function') {
    throw runtimeError('Runtime.HandlerNotFound', `${moduleName}.${exportName} is undefined or not exported`);
  }
  return fn;
}

function buildContext(config, requestId, deadline, settle) {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: config.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${config.region}:${config.accountId}:function:${config.functionName}`,
    memoryLimitInMB: String(config.memoryMb),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${config.functionName}`,
    logStreamName: config.logStreamName,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    // Legacy context methods, still honoured by the Node.js runtime.
    done: (error, result) => settle(error, result),
    succeed: (result) => settle(null, result),
    fail: (error) => settle(error ?? new Error('context.fail called'), undefined),
  };
}

function runHandler(config, handler, event, requestId, deadline) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (error, result) => {
      if (settled) return;
      settled = true;
      if (error !== null && error !== undefined) reject(error);
      else resolve(result);
    };
    const context = buildContext(config, requestId, deadline, settle);
    const returned = handler(event, context, settle);
    // An async handler (or one returning a promise) settles through its promise; a callback
    // handler settles when it calls the callback (or a legacy context method).
    if (returned && typeof returned.then === 'function') {
      returned.then(
        (result) => settle(null, result),
        (error) => settle(error ?? new Error('Handler rejected with no reason'), undefined),
      );
    } else if (handler.length < 3) {
      // A synchronous handler that takes no callback: Lambda answers null once the event loop
      // drains, whatever the handler returned. A worker cannot observe its own loop draining, so
      // answer after the current macrotask; a legacy context.succeed/fail made before that wins.
      setImmediate(() => settle(null, null));
    }
  });
}

/** How a sandbox alone in its thread loads a file: ES modules through import(), others require(). */
function loadFileAlone(file) {
  return file.endsWith('.mjs') ? import(pathToFileURL(file).href) : require(file);
}

/** Runs one invocation and returns the result message (without routing fields). */
async function invoke(config, handler, message) {
  try {
    const event = JSON.parse(message.eventJson);
    const response = await runHandler(config, handler, event, message.requestId, message.deadline);
    // Lambda serialises the response as JSON; undefined becomes null.
    const responseJson = JSON.stringify(response === undefined ? null : response);
    return { type: 'result', requestId: message.requestId, ok: true, responseJson };
  } catch (error) {
    return { type: 'result', requestId: message.requestId, ok: false, error: toErrorPayload(error) };
  }
}

/**
 * Replaces the console methods by ones that hand each formatted line to `post(level, message)`,
 * so console output travels over the same port as results and arrives before them.
 */
function captureConsole(post) {
  const levels = { log: 'INFO', info: 'INFO', warn: 'WARN', error: 'ERROR', debug: 'DEBUG', trace: 'TRACE' };
  for (const [method, level] of Object.entries(levels)) {
    console[method] = (...args) => {
      let message = util.format(...args);
      if (method === 'trace')
        message = `Trace: ${message}\n${new Error().stack.split('\n').slice(2).join('\n')}`;
      post(level, message);
    };
  }
}

module.exports = { toErrorPayload, loadHandler, loadFileAlone, invoke, captureConsole };
