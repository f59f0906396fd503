/** `switchyard invoke <function> --event file.json`: runs one function once, like `sam local invoke`. */
import { readFileSync } from 'node:fs';
import { findFunctionIn, LocalCloud } from '../cloud';
import { FunctionHost, type InvokeResult } from '../runtime/function-host';
import { findLiveSession } from '../session';
import { EventFileError } from '../template/errors';
import { type CloudCommandOptions, endpointsFrom, type Output } from './shared';

export interface InvokeCommandOptions extends CloudCommandOptions {
  readonly event?: string;
}

export function readEventFile(path: string | undefined): unknown {
  if (!path) return {};
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new EventFileError(
      path,
      (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message,
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new EventFileError(path, `not valid JSON (${(error as Error).message})`);
  }
}

/** Returns the process exit code: 0 when the function succeeded, 1 when it errored or timed out. */
export async function invokeCommand(
  functionQuery: string,
  options: InvokeCommandOptions,
  output: Output,
): Promise<number> {
  // Read the event before synthesizing: a typo in the path should fail in milliseconds.
  const event = readEventFile(options.event);
  const explicitTarget =
    options.assembly || options.endpoint || options.snsSqsEndpoint || options.dynamodbEndpoint;
  const kept = explicitTarget ? undefined : await findLiveSession(options.appDir ?? process.cwd());
  if (kept) {
    const fn = findFunctionIn(kept.functions, functionQuery);
    output.err(
      `Invoking ${fn.logicalId} (${fn.name}, ${fn.handler}) in the running local cloud at ${kept.endpoints.snsSqs} (pid ${kept.pid})`,
    );
    const host = new FunctionHost(fn);
    try {
      return printResult(await host.invoke(event), output);
    } finally {
      await host.stop();
    }
  }
  const cloud = await LocalCloud.start({
    projectDir: options.appDir,
    assemblyDir: options.assembly,
    endpoints: endpointsFrom(options),
    region: options.region,
    noSynthCache: options.synthCache === false,
    runEventSources: false,
    iam: options.iam,
  });
  try {
    const fn = cloud.findFunction(functionQuery);
    output.err(`Invoking ${fn.logicalId} (${fn.name}, ${fn.handler})`);
    return printResult(await cloud.invoke(fn.name, event), output);
  } finally {
    await cloud.stop();
  }
}

function printResult(result: InvokeResult, output: Output): number {
  for (const line of result.logs) output.err(line);
  output.err(
    `REPORT RequestId: ${result.requestId} Duration: ${result.durationMs.toFixed(1)} ms${result.timedOut ? ' (timed out)' : ''}`,
  );
  output.out(JSON.stringify(result.ok ? (result.response ?? null) : result.error, null, 2));
  return result.ok ? 0 : 1;
}
