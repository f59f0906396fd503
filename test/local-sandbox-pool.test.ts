/**
 * Isolation 'shared' (issue 13): sandboxes of many functions share a few worker threads, so the
 * runtime's SDK is compiled once per thread. Each sandbox must still behave as its own Lambda
 * execution environment: these tests put sandboxes on one thread and check what must not leak.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { FunctionHost, type LocalFunctionSpec } from '../local/runtime/function-host';
import { SandboxPool } from '../local/runtime/sandbox-pool';

const FIXTURES = join(__dirname, 'fixtures', 'functions');

interface Probe {
  instanceId: string;
  count: number;
  startedWith?: string;
  now?: string;
}

function spec(name: string, overrides: Partial<LocalFunctionSpec> = {}): LocalFunctionSpec {
  return {
    name,
    logicalId: name,
    codeDir: FIXTURES,
    handler: 'sandbox-probe.handler',
    environment: {},
    timeoutSeconds: 5,
    ...overrides,
  };
}

let pool: SandboxPool;
const hosts: FunctionHost[] = [];
function host(
  s: LocalFunctionSpec,
  options: ConstructorParameters<typeof FunctionHost>[1] = {},
): FunctionHost {
  const h = new FunctionHost(s, { pool, ...options });
  hosts.push(h);
  return h;
}

beforeEach(() => {
  // One thread: every sandbox of a test shares it.
  pool = new SandboxPool({ threads: 1 });
});
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.stop()));
  await pool.stop();
});

test('each sandbox has its own process.env, also for values set while running', async () => {
  const a = host(spec('fn-a', { environment: { PROBE_VALUE: 'a' } }));
  const b = host(spec('fn-b', { environment: { PROBE_VALUE: 'b' } }));
  const [ra, rb] = await Promise.all([a.invoke({ setEnv: 'a2', sleepMs: 50 }), b.invoke({ sleepMs: 50 })]);
  expect(ra.response).toMatchObject({ startedWith: 'a', now: 'a2' });
  expect(rb.response).toMatchObject({ startedWith: 'b', now: 'b' });
  expect(pool.threadCount()).toBe(1);
});

test("each sandbox has its own instance of the function's modules, relative requires included", async () => {
  const fn = host(spec('fn-modules'), { concurrency: 2 });
  const results = await Promise.all([fn.invoke({ sleepMs: 100 }), fn.invoke({ sleepMs: 100 })]);
  const [first, second] = results.map((r) => r.response as Probe);
  expect(first!.instanceId).not.toBe(second!.instanceId);
  // Both counted from 1: the counter module was not shared.
  expect([first!.count, second!.count]).toEqual([1, 1]);
  const again = (await fn.invoke({})).response as Probe;
  expect(again.count).toBe(2);
});

test('process.exit ends its own sandbox only', async () => {
  const quitter = host(spec('fn-quitter'), { concurrency: 1 });
  const bystander = host(spec('fn-bystander'), { concurrency: 1 });
  const before = (await bystander.invoke({})).response as Probe;
  const exited = await quitter.invoke({ exitCode: 3 });
  expect(exited.ok).toBe(false);
  expect(exited.error?.errorType).toBe('Runtime.ExitError');
  expect(exited.error?.errorMessage).toMatch(/exit status 3/);
  // The bystander's sandbox lives on, warm: same instance, its counter went on.
  const after = (await bystander.invoke({})).response as Probe;
  expect(after).toMatchObject({ instanceId: before.instanceId, count: 2 });
  // The quitter gets a new sandbox.
  const next = await quitter.invoke({});
  expect(next.ok).toBe(true);
});

test('an uncaught exception ends the sandbox that threw it, not its neighbours', async () => {
  const lines: string[] = [];
  const thrower = host(spec('fn-thrower'), { concurrency: 1, log: (line) => lines.push(line) });
  const bystander = host(spec('fn-bystander'), { concurrency: 1 });
  const before = (await bystander.invoke({})).response as Probe;
  const first = (await thrower.invoke({ throwLater: true })).response as Probe;
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(lines.join('\n')).toMatch(/\[fn-thrower\] ERROR Uncaught Error: thrown from a timer/);
  const second = (await thrower.invoke({})).response as Probe;
  expect(second.instanceId).not.toBe(first.instanceId);
  const after = (await bystander.invoke({})).response as Probe;
  expect(after.instanceId).toBe(before.instanceId);
});

test('raw stdout writes are logged with the invocation that made them', async () => {
  const writer = host(spec('fn-writer'));
  const result = await writer.invoke({ writeStdout: 'raw line' });
  expect(result.logs).toContain('[fn-writer] raw line');
});

describe('a sandbox that timed out', () => {
  let server: Server;
  let hits = 0;
  beforeAll(async () => {
    server = createServer((_request, response) => {
      hits += 1;
      response.end('ok');
    }).listen(0, '127.0.0.1');
    await once(server, 'listening');
  });
  afterAll(() => server.close());

  test('is frozen: code it left running sends no request after the timeout', async () => {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/late`;
    const bystander = host(spec('fn-bystander'));
    // The bystander keeps the thread busy past the timeout, so the thread is still there.
    const busy = bystander.invoke({ sleepMs: 2500 });
    const late = host(spec('fn-late', { timeoutSeconds: 1 }));
    const timedOut = await late.invoke({ requestAfterMs: 1500, url });
    expect(timedOut.error?.errorType).toBe('Sandbox.Timedout');
    expect((await busy).ok).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(hits).toBe(0);
  });

  test('retires its thread, even from a busy loop, and new sandboxes start on a fresh thread', async () => {
    const spinner = host(spec('fn-spinner', { timeoutSeconds: 1 }));
    const bystander = host(spec('fn-bystander'));
    const before = (await bystander.invoke({})).response as Probe;
    const spun = await spinner.invoke({ spinMs: 3000 });
    expect(spun.error?.errorType).toBe('Sandbox.Timedout');
    // The bystander's idle sandbox ended with the retired thread; a new one serves it.
    const after = await bystander.invoke({});
    expect(after.ok).toBe(true);
    expect((after.response as Probe).instanceId).not.toBe(before.instanceId);
    expect((await spinner.invoke({})).ok).toBe(true);
  });
});
