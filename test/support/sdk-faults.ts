/**
 * Faults injected at the bottom of an SDK client's middleware stack, below its retry middleware:
 * the client's real retry strategy sees them exactly as it would see a failed or lost HTTP exchange.
 * `before`: the request never reaches the emulator (the service did not apply it).
 * `after`: the emulator applied the request, then the response is lost (the caller cannot know).
 */
import type { DeserializeHandler, DeserializeHandlerArguments, HandlerExecutionContext } from '@smithy/types';

interface ClientWithStack {
  middlewareStack: {
    add(
      middleware: (
        next: DeserializeHandler<object, object>,
        context: HandlerExecutionContext,
      ) => DeserializeHandler<object, object>,
      options: { step: 'deserialize'; name: string; priority: 'high' },
    ): void;
  };
}

export interface FaultPlan {
  /** Command names to fault, e.g. `SendMessageBatchCommand`. */
  readonly commands: readonly string[];
  /** How many calls of those commands fail (the first ones). */
  readonly times: number;
  readonly error: () => Error;
  /** @default 'before' */
  readonly when?: 'before' | 'after';
}

export interface FaultCounter {
  /** Calls of the faulted commands that reached the bottom of the stack (retries included). */
  calls: number;
  injected: number;
}

let counter = 0;

export function injectFaults(client: unknown, plan: FaultPlan): FaultCounter {
  const seen: FaultCounter = { calls: 0, injected: 0 };
  (client as ClientWithStack).middlewareStack.add(
    (next, context) => async (args: DeserializeHandlerArguments<object>) => {
      if (!plan.commands.includes(context.commandName ?? '')) return next(args);
      seen.calls += 1;
      const fault = seen.injected < plan.times;
      if (fault && (plan.when ?? 'before') === 'before') {
        seen.injected += 1;
        throw plan.error();
      }
      const result = await next(args);
      if (fault) {
        seen.injected += 1;
        throw plan.error();
      }
      return result;
    },
    { step: 'deserialize', name: `switchyardTestFault${++counter}`, priority: 'high' },
  );
  return seen;
}

/** What a socket reset looks like to the SDK (Node's ECONNRESET): transient, retried by the SDK. */
export function connectionReset(): Error {
  return Object.assign(new Error('socket hang up'), { name: 'Error', code: 'ECONNRESET' });
}

interface BatchEntry {
  Id?: string;
  MessageAttributes?: Record<string, { StringValue?: string }>;
}

export interface EntryFault {
  readonly code: string;
  readonly senderFault: boolean;
  /** How many attempts of this message fail; Infinity = always. */
  readonly times: number;
}

/**
 * Partial batch failures: the service answers 200 and lists some entries under `Failed`. Entries of
 * the planned messages (by Switchyard message id) are taken out of the real request and reported
 * failed; everything else really reaches the emulator. `order` records the message ids that did.
 */
export function failEntries(
  client: unknown,
  plan: ReadonlyMap<string, EntryFault>,
): { attempts: Map<string, number>; delivered: string[]; requests: string[][] } {
  const attempts = new Map<string, number>();
  const delivered: string[] = [];
  const requests: string[][] = [];
  (client as { middlewareStack: { add: (m: unknown, o: unknown) => void } }).middlewareStack.add(
    (next: (args: { input: Record<string, unknown> }) => Promise<{ output: Record<string, unknown> }>) =>
      async (args: { input: Record<string, unknown> }) => {
        const field = 'Entries' in args.input ? 'Entries' : 'PublishBatchRequestEntries';
        const entries = args.input[field] as BatchEntry[] | undefined;
        if (!Array.isArray(entries)) return next(args);
        const keep: BatchEntry[] = [];
        const failed: { Id: string; Code: string; Message: string; SenderFault: boolean }[] = [];
        const idOf = (e: BatchEntry) => e.MessageAttributes?.['message-id']?.StringValue ?? '';
        requests.push(entries.map(idOf));
        for (const entry of entries) {
          const id = idOf(entry);
          const attempt = (attempts.get(id) ?? 0) + 1;
          attempts.set(id, attempt);
          const fault = plan.get(id);
          if (fault && attempt <= fault.times)
            failed.push({
              Id: entry.Id!,
              Code: fault.code,
              Message: 'injected',
              SenderFault: fault.senderFault,
            });
          else keep.push(entry);
        }
        const result =
          keep.length > 0
            ? await next({ ...args, input: { ...args.input, [field]: keep } })
            : { output: { $metadata: {}, Successful: [], Failed: [] } };
        delivered.push(...keep.map(idOf));
        const output = result.output as { Successful?: unknown[]; Failed?: unknown[] };
        return {
          ...result,
          output: {
            ...output,
            Successful: output.Successful ?? [],
            Failed: [...(output.Failed ?? []), ...failed],
          },
        };
      },
    { step: 'initialize', name: `switchyardTestEntryFault${++counter}` },
  );
  return { attempts, delivered, requests };
}
