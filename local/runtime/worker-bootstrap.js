/**
 * The Lambda-like runtime of a sandbox alone in its worker thread (isolation 'thread'). Plain
 * CommonJS JavaScript on purpose: a Worker starts a fresh Node loader that does not know
 * TypeScript (ts-node or ts-jest only hook the main thread).
 *
 * Protocol with the host (function-instance.ts), all over parentPort, in order:
 *   worker -> host  { type: 'ready' } | { type: 'init-error', error }
 *   host -> worker  { type: 'invoke', requestId, eventJson, deadline }
 *   worker -> host  { type: 'log', requestId, level, message } (any number)
 *   worker -> host  { type: 'result', requestId, ok, responseJson?, error? }
 * Console output travels over the same port as the result, so every log line of an invocation
 * reaches the host before its result does.
 */

const { parentPort, workerData } = require('node:worker_threads');
const Module = require('node:module');
const { toErrorPayload, loadHandler, loadFileAlone, invoke, captureConsole } = require('./sandbox-runtime');

/** @type {{ codeDir: string, handler: string, functionName: string, memoryMb: number, region: string, accountId: string, logStreamName: string, preload?: { module: string, data: unknown } }} */
const config = workerData;

/** The request id of the invocation in progress; logs outside an invocation carry null. */
let currentRequestId = null;

// Lambda's runtime ships the AWS SDK v3 outside the bundle (NODE_PATH includes
// /var/runtime/node_modules) and NodejsFunction leaves @aws-sdk/* external. The host sets NODE_PATH
// in this worker's env to its own node_modules; re-reading it makes require() honour it.
Module._initPaths();

async function main() {
  captureConsole((level, message) =>
    parentPort.postMessage({ type: 'log', requestId: currentRequestId, level, message }),
  );
  let handler;
  try {
    // An optional module from the host (the chaos run's fault injector), loaded before the handler.
    const preload = config.preload ? require(config.preload.module) : undefined;
    preload?.install(config.preload.data, { functionName: config.functionName });
    handler = await loadHandler(config, loadFileAlone);
    if (preload?.wrapHandler) handler = preload.wrapHandler(handler);
  } catch (error) {
    parentPort.postMessage({ type: 'init-error', error: toErrorPayload(error) });
    return;
  }
  parentPort.on('message', async (message) => {
    if (message.type !== 'invoke') return;
    currentRequestId = message.requestId;
    try {
      parentPort.postMessage(await invoke(config, handler, message));
    } finally {
      currentRequestId = null;
    }
  });
  parentPort.postMessage({ type: 'ready' });
}

main();
