/**
 * One call as the gateway sees it, and the emulator it forwards the call to. A caller that goes
 * away aborts its call upstream too, as a client's closed connection would end it at AWS.
 */
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';

export interface GatewayCall {
  readonly method: string;
  /** Path and query string. */
  readonly url: string;
  /** Lower-case names, as Node's `IncomingMessage` has them. */
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** Aborted when the caller has gone (its connection closed before the answer). */
  readonly signal: AbortSignal;
}

export interface GatewayReply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

/** An emulator behind a loopback (or any) HTTP endpoint, over reused connections. */
export class HttpUpstream {
  // A new TCP connection per forwarded call would cost more than the call.
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 128 });
  private readonly target: URL;

  constructor(endpoint: string) {
    this.target = new URL(endpoint);
  }

  send(call: GatewayCall): Promise<GatewayReply> {
    return new Promise((resolve, reject) => {
      const outgoing = httpRequest(
        {
          host: this.target.hostname,
          port: this.target.port,
          method: call.method,
          agent: this.agent,
          path: call.url,
          // Closing the upstream connection when the caller has gone lets the emulator end a long
          // poll without taking a message for nobody (local/fauxqs-abandoned-receive.ts).
          signal: call.signal,
          // The Host header stays the gateway's: fauxqs names queue URLs after it, so callers keep
          // coming back through the gateway.
          headers: { ...call.headers, 'content-length': String(call.body.length) },
        },
        async (response) => {
          const chunks: Buffer[] = [];
          try {
            for await (const chunk of response) chunks.push(chunk as Buffer);
          } catch (error) {
            reject(error);
            return;
          }
          resolve({
            status: response.statusCode ?? 502,
            headers: response.headers,
            body: Buffer.concat(chunks),
          });
        },
      );
      outgoing.on('error', reject);
      outgoing.end(call.body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
