/**
 * The Lambda-like runtime inside one function-host worker thread. Plain CommonJS JavaScript on
 * purpose: a Worker starts a fresh Node loader that does not know TypeScript (ts-node or ts-jest
 * only hook the main thread).
 *
 * Protocol with the host (function-host.ts), all over parentPort, in order:
 *   worker -> host  { type: 'ready' } | { type: 'init-error', error }
 *   host -> worker  { type: 'invoke', requestId, eventJson, deadline }
 *   worker -> host  { type: 'log', requestId, level, message } (any number)
 *   worker -> host  { type: 'result', requestId, ok, responseJson?, error? }
 * Console output travels over the same port as the result, so every log line of an invocation
 * reaches the host before its result does.
 */

const { parentPort, workerData } = require('node:worker_threads');
const Module = require('node:module');
const path = require('node:path');
const fs = require('node:fs');
const util = require('node:util');
const { pathToFileURL } = require('node:url');

/** @type {{ codeDir: string, handler: string, functionName: string, memoryMb: number, region: string, accountId: string, logStreamName: string, preload?: { module: string, data: unknown } }} */
const config = workerData;

/** The request id of the invocation in progress; logs outside an invocation carry null. */
let currentRequestId = null;

// Lambda's runtime ships the AWS SDK v3 outside the bundle (NODE_PATH includes
// /var/runtime/node_modules) and NodejsFunction leaves @aws-sdk/* external. The host sets NODE_PATH
// in this worker's env to its own node_modules; re-reading it makes require() honour it.
Module._initPaths();

function captureConsole() {
  const levels = { log: 'INFO', info: 'INFO', warn: 'WARN', error: 'ERROR', debug: 'DEBUG', trace: 'TRACE' };
  for (const [method, level] of Object.entries(levels)) {
    console[method] = (...args) => {
      let message = util.format(...args);
      if (method === 'trace')
        message = `Trace: ${message}\n${new Error().stack.split('\n').slice(2).join('\n')}`;
      parentPort.postMessage({ type: 'log', requestId: currentRequestId, level, message });
    };
  }
}

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
  return {
    errorType: typeof error,
    errorMessage: typeof error === 'string' ? error : (JSON.stringify(error) ?? String(error)),
  };
}

function resolveHandlerFile(codeDir, moduleName) {
  const base = path.resolve(codeDir, moduleName);
  for (const candidate of [base, `${base}.js`, `${base}.cjs`, `${base}.mjs`]) {
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

async function loadHandler() {
  const dot = config.handler.lastIndexOf('.');
  if (dot <= 0 || dot === config.handler.length - 1) {
    const error = new Error(
      `Bad handler '${config.handler}': expected '<file>.<exported function>', for example 'index.handler'.`,
    );
    error.name = 'Runtime.MalformedHandlerName';
    throw error;
  }
  const moduleName = config.handler.slice(0, dot);
  const exportName = config.handler.slice(dot + 1);
  const file = resolveHandlerFile(config.codeDir, moduleName);
  if (!file) {
    const error = new Error(
      `Cannot find module '${moduleName}' in ${config.codeDir} (handler '${config.handler}').`,
    );
    error.name = 'Runtime.ImportModuleError';
    throw error;
  }
  let loaded;
  try {
    loaded = file.endsWith('.mjs') ? await import(pathToFileURL(file).href) : require(file);
  } catch (cause) {
    const error = new Error(`Error loading ${file}: ${cause?.message ? cause.message : String(cause)}`);
    error.name = 'Runtime.ImportModuleError';
    error.stack = cause?.stack ? cause.stack : error.stack;
    throw error;
  }
  const fn = loaded ? loaded[exportName] : undefined;
  if (typeof fn !== 'function') {
    const error = new Error(`${moduleName}.${exportName} is undefined or not exported`);
    error.name = 'Runtime.HandlerNotFound';
    throw error;
  }
  return fn;
}

function buildContext(requestId, deadline, settle) {
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

function runHandler(handler, event, requestId, deadline) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (error, result) => {
      if (settled) return;
      settled = true;
      if (error !== null && error !== undefined) reject(error);
      else resolve(result);
    };
    const context = buildContext(requestId, deadline, settle);
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

async function main() {
  captureConsole();
  let handler;
  try {
    // An optional module from the host (the chaos run's fault injector), loaded before the handler.
    const preload = config.preload ? require(config.preload.module) : undefined;
    preload?.install(config.preload.data, { functionName: config.functionName });
    handler = await loadHandler();
    if (preload?.wrapHandler) handler = preload.wrapHandler(handler);
  } catch (error) {
    parentPort.postMessage({ type: 'init-error', error: toErrorPayload(error) });
    return;
  }
  parentPort.on('message', async (message) => {
    if (message.type !== 'invoke') return;
    currentRequestId = message.requestId;
    try {
      const event = JSON.parse(message.eventJson);
      const response = await runHandler(handler, event, message.requestId, message.deadline);
      // Lambda serialises the response as JSON; undefined becomes null.
      const responseJson = JSON.stringify(response === undefined ? null : response);
      parentPort.postMessage({ type: 'result', requestId: message.requestId, ok: true, responseJson });
    } catch (error) {
      parentPort.postMessage({
        type: 'result',
        requestId: message.requestId,
        ok: false,
        error: toErrorPayload(error),
      });
    } finally {
      currentRequestId = null;
    }
  });
  parentPort.postMessage({ type: 'ready' });
}

main();
