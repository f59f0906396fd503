/**
 * An SDK request handler that hands a signed request to the gateway of this process instead of
 * sending it over a loopback socket. Used by the local cloud's own clients (event source mappings,
 * the deployer): they run in the gateway's process, and a socket there costs the main thread a
 * write on each side of each call. Function code keeps the SDK's own HTTP handler, unchanged.
 *
 * Everything above the handler stays the SDK's: serialization, SigV4 signing (the gateway reads the
 * caller from it), retries, middleware such as the chaos run's fault injection.
 */
import { Readable } from 'node:stream';
import { HttpResponse } from '@smithy/core/transport';
import type { GatewayCall, GatewayReply } from './upstream';

/** What the gateway offers this handler. */
export interface Dispatcher {
  dispatch(call: GatewayCall): Promise<GatewayReply>;
}

/** The members of the SDK's HttpRequest read here. */
interface SignedRequest {
  readonly method: string;
  readonly path: string;
  readonly query?: Record<string, string | string[] | null | undefined>;
  readonly headers: Record<string, string>;
  readonly body?: unknown;
}

/** The SDK's abort signals: the standard one, or its older own with only `onabort`. */
interface CallerSignal {
  readonly aborted: boolean;
  addEventListener?: (type: 'abort', listener: () => void, options?: { once?: boolean }) => void;
  removeEventListener?: (type: 'abort', listener: () => void) => void;
  onabort?: unknown;
}

export class InProcessRequestHandler {
  readonly metadata = { handlerProtocol: 'http/1.1' };

  constructor(private readonly gateway: Dispatcher) {}

  async handle(
    request: SignedRequest,
    options: { abortSignal?: CallerSignal } = {},
  ): Promise<{ response: HttpResponse }> {
    const caller = options.abortSignal;
    if (caller?.aborted) throw abortError();
    const gone = new AbortController();
    const body = await bodyBytes(request.body);
    const reply = this.gateway.dispatch({
      method: request.method,
      url: request.path + queryString(request.query),
      headers: lowerCased(request.headers),
      body,
      signal: gone.signal,
    });
    // As the SDK's HTTP handler does: an aborted call rejects at once; the gateway sees its client gone.
    const answer = caller
      ? await new Promise<GatewayReply>((resolve, reject) => {
          const onAbort = () => {
            gone.abort();
            reject(abortError());
          };
          if (caller.addEventListener) caller.addEventListener('abort', onAbort, { once: true });
          else caller.onabort = onAbort;
          reply.then(resolve, reject).finally(() => caller.removeEventListener?.('abort', onAbort));
        })
      : await reply;
    return {
      response: new HttpResponse({
        statusCode: answer.status,
        headers: flatHeaders(answer.headers),
        // A stream, as the SDK's Node handler gives: streaming outputs (S3 GetObject) require one.
        body: Readable.from([answer.body]),
      }),
    };
  }

  updateHttpClientConfig(): void {}

  httpHandlerConfigs(): Record<string, never> {
    return {};
  }

  destroy(): void {}
}

function abortError(): Error {
  return Object.assign(new Error('Request aborted'), { name: 'AbortError' });
}

async function bodyBytes(body: unknown): Promise<Buffer> {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof Readable) {
    const chunks: Buffer[] = [];
    for await (const chunk of body)
      chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
    return Buffer.concat(chunks);
  }
  throw new TypeError(`The in-process request handler cannot send a body of type ${typeof body}`);
}

function queryString(query: SignedRequest['query']): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value === undefined) continue;
    if (value === null) parts.push(encodeURIComponent(name));
    else
      for (const one of Array.isArray(value) ? value : [value])
        parts.push(`${encodeURIComponent(name)}=${encodeURIComponent(one)}`);
  }
  return parts.length > 0 ? `?${parts.join('&')}` : '';
}

function lowerCased(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = value;
  return out;
}

function flatHeaders(headers: GatewayReply['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}
