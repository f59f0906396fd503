/** Invokes through any Invoker without letting a thrown error escape into a poller loop. */
import { randomUUID } from 'node:crypto';
import type { InvokeOptions, InvokeResult, Invoker } from '../runtime/function-host';

/**
 * `FunctionHost.invoke` never rejects, but a wrapping invoker might; a rejection then counts as a
 * failed invocation (the batch is retried or left on the queue) instead of stopping the poller.
 */
export async function invokeSafely(
  invoker: Invoker,
  event: unknown,
  options?: InvokeOptions,
): Promise<InvokeResult> {
  try {
    return await invoker.invoke(event, options);
  } catch (error) {
    return {
      ok: false,
      timedOut: false,
      durationMs: 0,
      requestId: randomUUID(),
      logs: [],
      error: { errorType: 'Runtime.InvokerError', errorMessage: (error as Error)?.message ?? String(error) },
    };
  }
}
