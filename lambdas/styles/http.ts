/**
 * Finish processing after returning a response, over HTTP: a Lambda function URL (or API Gateway
 * HTTP API, payload 2.0) handler with routes. A command route validates the body with its
 * schema, lets the handler commit state and messages (outbox) and answers 202 Accepted with a
 * status reference at once; a query route answers the status. Bad input gets 400 with what was
 * wrong; an unexpected error gets 500 with the request id, and is logged.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { checkAgainstSchema, type OutputOf, type PayloadSchema } from '../core/definition';

export interface HttpRequest<B> {
  readonly body: B;
  readonly params: Readonly<Record<string, string>>;
  readonly event: APIGatewayProxyEventV2;
}

export interface HttpResponse {
  readonly statusCode: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

export interface Route {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path with `{name}` parameters, e.g. `/orders/{orderId}`. */
  readonly path: string;
  /** Validates the JSON body (commands). @default - no body expected */
  readonly body?: PayloadSchema;
  readonly handle: (request: HttpRequest<never>) => Promise<HttpResponse>;
}

/** 202 Accepted with the status reference in `Location` and in the body. */
export function accepted(statusUrl: string, body: Record<string, unknown>): HttpResponse {
  return { statusCode: 202, headers: { location: statusUrl }, body: { ...body, statusUrl } };
}

/** Defines a route with a typed body. */
export function route<S extends PayloadSchema>(
  method: Route['method'],
  path: string,
  handle: (request: HttpRequest<OutputOf<S>>) => Promise<HttpResponse>,
  body?: S,
): Route {
  return { method, path, body, handle: handle as Route['handle'] };
}

function matcher(path: string): { regex: RegExp; names: string[] } {
  const names: string[] = [];
  const pattern = path.replace(/\{([A-Za-z0-9_]+)\}/g, (_m, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { regex: new RegExp(`^${pattern}/?$`), names };
}

const json = (statusCode: number, body: unknown, headers: Record<string, string> = {}) => ({
  statusCode,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

/**
 * Creates the handler of an HTTP API.
 *
 * @example
 * export const handler = createHttpApi([
 *   route('POST', '/orders', async ({ body }) => accepted(`/orders/${id}`, { orderId: id }), PlaceOrderRequest),
 *   route('GET', '/orders/{orderId}', async ({ params }) => ({ statusCode: 200, body: await status(params.orderId) })),
 * ]);
 */
export function createHttpApi(routes: readonly Route[]) {
  const compiled = routes.map((r) => ({ ...r, ...matcher(r.path) }));
  return async (
    event: APIGatewayProxyEventV2,
    context?: Context,
  ): Promise<APIGatewayProxyStructuredResultV2> => {
    const method = event.requestContext?.http?.method ?? 'GET';
    const path = event.rawPath ?? '/';
    const candidates = compiled.filter((r) => r.regex.test(path));
    if (candidates.length === 0) {
      return json(404, {
        error: `No route for ${path}. Routes: ${routes.map((r) => `${r.method} ${r.path}`).join(', ')}`,
      });
    }
    const matched = candidates.find((r) => r.method === method);
    if (!matched) {
      return json(
        405,
        {
          error: `${method} is not allowed on ${path}; use ${candidates.map((r) => r.method).join(' or ')}.`,
        },
        {
          allow: candidates.map((r) => r.method).join(', '),
        },
      );
    }
    const values = matched.regex.exec(path)?.slice(1) ?? [];
    const params = Object.fromEntries(matched.names.map((n, i) => [n, decodeURIComponent(values[i] ?? '')]));
    let body: unknown;
    if (matched.body) {
      const text = event.body
        ? event.isBase64Encoded
          ? Buffer.from(event.body, 'base64').toString('utf8')
          : event.body
        : '';
      try {
        body = JSON.parse(text);
      } catch (error) {
        return json(400, {
          error: `The body is not JSON (${(error as Error).message}). Send a JSON object with content-type application/json.`,
        });
      }
      const parsed = checkAgainstSchema(`the body of ${matched.method} ${matched.path}`, matched.body, body);
      if (parsed.issues) {
        return json(400, { error: 'The body does not match the request schema.', issues: parsed.issues });
      }
      body = parsed.value;
    }
    try {
      const response = await matched.handle({ body: body as never, params, event });
      return json(response.statusCode, response.body ?? {}, response.headers);
    } catch (error) {
      const requestId = context?.awsRequestId ?? event.requestContext?.requestId;
      console.error(
        JSON.stringify({
          level: 'ERROR',
          message: 'Request failed',
          route: `${matched.method} ${matched.path}`,
          requestId,
          error: String(error),
        }),
      );
      return json(500, {
        error: 'The request failed; nothing was committed unless a status reference was returned.',
        requestId,
      });
    }
  };
}
