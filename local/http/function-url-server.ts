/**
 * Serves a Lambda function URL on 127.0.0.1: each HTTP request becomes a function URL event
 * (payload format 2.0), and the function's answer becomes the HTTP response, as AWS documents it
 * (a structured `{ statusCode, headers, body, isBase64Encoded, cookies }` result, or any other
 * value sent as a 200 JSON body). AWS_IAM auth: requests without a SigV4 Authorization header get
 * 403 like on AWS; the signature itself is not verified locally.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { LOOPBACK } from '../ports';
import type { Invoker } from '../runtime/function-host';
import type { FunctionUrlDefinition } from '../template/resources/function-url';

const TEXT_TYPES = /^(text\/|application\/(json|xml|x-www-form-urlencoded|javascript)|.*\+json|.*\+xml)/i;

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/** The function URL event (payload 2.0) of an HTTP request. */
export function functionUrlEvent(
  request: IncomingMessage,
  body: Buffer,
  definition: FunctionUrlDefinition,
): Record<string, unknown> {
  const url = new URL(request.url ?? '/', definition.url);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined && name !== 'cookie')
      headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const queryStringParameters: Record<string, string> = {};
  for (const [k, v] of url.searchParams)
    queryStringParameters[k] = queryStringParameters[k] ? `${queryStringParameters[k]},${v}` : v;
  const contentType = headers['content-type'] ?? '';
  const isText = body.length === 0 || TEXT_TYPES.test(contentType);
  const now = new Date();
  const cookies = request.headers.cookie?.split(/;\s*/).filter(Boolean);
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    ...(cookies?.length ? { cookies } : {}),
    headers,
    ...(Object.keys(queryStringParameters).length ? { queryStringParameters } : {}),
    requestContext: {
      accountId: definition.authType === 'AWS_IAM' ? '000000000000' : 'anonymous',
      apiId: definition.logicalId.toLowerCase(),
      domainName: url.host,
      domainPrefix: url.hostname,
      http: {
        method: request.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? LOOPBACK,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
      ...(definition.authType === 'AWS_IAM'
        ? {
            authorizer: {
              iam: {
                accessKey: accessKeyOf(headers.authorization),
                accountId: '000000000000',
                callerId: 'local',
                userArn: 'arn:aws:iam::000000000000:user/local',
                userId: 'local',
              },
            },
          }
        : {}),
    },
    ...(body.length ? { body: isText ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: !isText,
  };
}

function accessKeyOf(authorization: string | undefined): string {
  return /Credential=([^/]+)\//.exec(authorization ?? '')?.[1] ?? 'unknown';
}

function send(
  response: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: string | Buffer,
) {
  response.writeHead(status, headers);
  response.end(body);
}

/** Turns the function's result into the HTTP response (function URL rules). */
function respond(response: ServerResponse, result: unknown): void {
  const structured =
    typeof result === 'object' && result !== null && 'statusCode' in result
      ? (result as {
          statusCode: number;
          headers?: Record<string, string>;
          body?: string;
          isBase64Encoded?: boolean;
          cookies?: string[];
        })
      : undefined;
  if (!structured) {
    const body = typeof result === 'string' ? result : JSON.stringify(result ?? null);
    send(response, 200, { 'content-type': 'application/json' }, body);
    return;
  }
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    ...(structured.headers ?? {}),
  };
  if (structured.cookies?.length) response.setHeader('set-cookie', structured.cookies);
  const body = structured.body ?? '';
  send(
    response,
    structured.statusCode,
    headers,
    structured.isBase64Encoded ? Buffer.from(body, 'base64') : body,
  );
}

export interface FunctionUrlServer {
  readonly url: string;
  stop(): Promise<void>;
}

/** Starts serving `definition` on its port. */
export async function serveFunctionUrl(
  definition: FunctionUrlDefinition,
  invoker: Invoker,
  log: (line: string) => void = () => undefined,
): Promise<FunctionUrlServer> {
  const server: Server = createServer(async (request, response) => {
    try {
      if (
        definition.authType === 'AWS_IAM' &&
        !/^AWS4-HMAC-SHA256 Credential=/.test(request.headers.authorization ?? '')
      ) {
        send(response, 403, { 'content-type': 'application/json' }, JSON.stringify({ Message: 'Forbidden' }));
        return;
      }
      const body = await readBody(request);
      const result = await invoker.invoke(functionUrlEvent(request, body, definition));
      if (!result.ok) {
        log(`Function URL ${definition.url}: ${result.error?.errorType}: ${result.error?.errorMessage}`);
        send(
          response,
          502,
          { 'content-type': 'application/json' },
          JSON.stringify({ Message: 'Internal Server Error' }),
        );
        return;
      }
      respond(response, result.response);
    } catch (error) {
      log(`Function URL ${definition.url}: ${(error as Error).message}`);
      if (!response.headersSent) send(response, 500, {}, '');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(definition.port, LOOPBACK, () => resolve());
  });
  return {
    url: definition.url,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
