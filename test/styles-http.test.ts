/**
 * HTTP commands: the route handler of `createHttpApi` (202 with a status reference, 400 with the
 * issues, 404/405, 500 without leaking the error) behind the local function URL server, which turns
 * real HTTP requests into function URL events (payload 2.0) and the results back into responses.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { z } from 'zod';
import { accepted, createHttpApi, route } from '../lambdas/styles/http';
import { serveFunctionUrl } from '../local/http/function-url-server';
import { freePort } from '../local/ports';
import type { InvokeResult, Invoker } from '../local/runtime/function-host';

const api = createHttpApi([
  route(
    'POST',
    '/orders',
    async ({ body }) => accepted(`/orders/o-${body.customerId}`, { orderId: `o-${body.customerId}` }),
    z.object({ customerId: z.string().min(1) }),
  ),
  route('GET', '/orders/{orderId}', async ({ params }) => ({
    statusCode: 200,
    body: { orderId: params.orderId, status: 'PENDING' },
  })),
  route('GET', '/boom', async () => {
    throw new Error('secret detail');
  }),
]);

/** Runs the handler in process, as the function host would. */
function invokerOf(handler: (event: never) => Promise<unknown>, seen: unknown[] = []): Invoker {
  return {
    name: 'api',
    async invoke(event: unknown): Promise<InvokeResult> {
      seen.push(event);
      try {
        return {
          ok: true,
          response: await handler(event as never),
          timedOut: false,
          durationMs: 1,
          requestId: 'r',
          logs: [],
        };
      } catch (error) {
        return {
          ok: false,
          error: { errorType: 'Error', errorMessage: String(error) },
          timedOut: false,
          durationMs: 1,
          requestId: 'r',
          logs: [],
        };
      }
    },
  };
}

const signed = {
  authorization:
    'AWS4-HMAC-SHA256 Credential=local/20261130/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=00',
};

async function serve(authType: 'AWS_IAM' | 'NONE', invoker: Invoker) {
  const port = await freePort();
  return serveFunctionUrl(
    { logicalId: 'ApiUrl', functionName: 'api', authType, port, url: `http://127.0.0.1:${port}/` },
    invoker,
  );
}

describe('HTTP command endpoint', () => {
  test('answers 202 with a Location status reference, then the status; 400, 404, 405 and 500 say why', async () => {
    const seen: unknown[] = [];
    const server = await serve('AWS_IAM', invokerOf(api, seen));
    try {
      const placed = await fetch(`${server.url}orders`, {
        method: 'POST',
        headers: { ...signed, 'content-type': 'application/json' },
        body: JSON.stringify({ customerId: 'c1' }),
      });
      expect(placed.status).toBe(202);
      expect(placed.headers.get('location')).toBe('/orders/o-c1');
      expect(await placed.json()).toEqual({ orderId: 'o-c1', statusUrl: '/orders/o-c1' });
      const event = seen[0] as APIGatewayProxyEventV2;
      expect(event).toMatchObject({
        version: '2.0',
        routeKey: '$default',
        rawPath: '/orders',
        isBase64Encoded: false,
      });
      expect(event.requestContext.http.method).toBe('POST');

      const status = await fetch(`${server.url}orders/o-c1?verbose=1`, { headers: signed });
      expect(await status.json()).toEqual({ orderId: 'o-c1', status: 'PENDING' });
      expect((seen[1] as APIGatewayProxyEventV2).queryStringParameters).toEqual({ verbose: '1' });

      const invalid = await fetch(`${server.url}orders`, {
        method: 'POST',
        headers: signed,
        body: '{"customerId":""}',
      });
      expect(invalid.status).toBe(400);
      expect(((await invalid.json()) as { issues: unknown }).issues).toEqual([
        { path: 'customerId', message: expect.stringMatching(/>=1/) },
      ]);
      const notJson = await fetch(`${server.url}orders`, { method: 'POST', headers: signed, body: 'nope' });
      expect(((await notJson.json()) as { error: string }).error).toMatch(/not JSON/);
      expect((await fetch(`${server.url}nowhere`, { headers: signed })).status).toBe(404);
      const wrongMethod = await fetch(`${server.url}orders/o-1`, { method: 'DELETE', headers: signed });
      expect(wrongMethod.status).toBe(405);
      expect(wrongMethod.headers.get('allow')).toBe('GET');
      const failed = await fetch(`${server.url}boom`, { headers: signed });
      expect(failed.status).toBe(500);
      expect(await failed.text()).not.toContain('secret detail');
    } finally {
      await server.stop();
    }
  });

  test('AWS_IAM URLs refuse unsigned requests with 403; NONE URLs take them', async () => {
    const iam = await serve('AWS_IAM', invokerOf(api));
    const open = await serve('NONE', invokerOf(api));
    try {
      expect((await fetch(`${iam.url}orders/o-1`)).status).toBe(403);
      expect((await fetch(`${open.url}orders/o-1`)).status).toBe(200);
    } finally {
      await Promise.all([iam.stop(), open.stop()]);
    }
  });

  test('plain results become 200 JSON, binary bodies arrive base64, a crashed function is a 502', async () => {
    const seen: unknown[] = [];
    const echo = await serve(
      'NONE',
      invokerOf(async () => ({ plain: true }), seen),
    );
    const crash = await serve(
      'NONE',
      invokerOf(async () => Promise.reject(new Error('x'))),
    );
    try {
      const plain = await fetch(`${echo.url}x`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: Buffer.from([0, 1, 2]),
      });
      expect(plain.status).toBe(200);
      expect(await plain.json()).toEqual({ plain: true });
      expect(seen[0]).toMatchObject({
        isBase64Encoded: true,
        body: Buffer.from([0, 1, 2]).toString('base64'),
      });
      expect((await fetch(`${crash.url}x`)).status).toBe(502);
    } finally {
      await Promise.all([echo.stop(), crash.stop()]);
    }
  });
});
