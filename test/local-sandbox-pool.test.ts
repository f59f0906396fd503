/**
 * Isolation 'shared' (issue 13): sandboxes of many functions share a few worker threads, so the
 * runtime's SDK is compiled once per thread. Each sandbox must still behave as its own Lambda
 * execution environment: these tests put sandboxes on one thread and check what must not leak.
 */
import { once } from 'node:events';
import { mkdtempSync, symlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FunctionHost, type LocalFunctionSpec } from '../local/runtime/function-host';
import { SandboxPool } from '../local/runtime/sandbox-pool';

const FIXTURES = join(__dirname, 'fixtures', 'functions');

interface Probe {
  instanceId: string;
  count: number;
  startedWith?: string;
  now?: string;
  seenGlobal?: string;
  registryOwner?: string;
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

test('process.exit ends its own sandbox only: a neighbour in flight on the thread finishes', async () => {
  const quitter = host(spec('fn-quitter'), { concurrency: 1 });
  const bystander = host(spec('fn-bystander'), { concurrency: 1 });
  const before = (await bystander.invoke({})).response as Probe;
  // WHEN the quitter exits while the bystander's invocation is in flight on the same thread
  const inFlight = bystander.invoke({ sleepMs: 300 });
  const exited = await quitter.invoke({ exitCode: 3 });
  // THEN the quitter's invocation fails as Lambda's does
  expect(exited.ok).toBe(false);
  expect(exited.error?.errorType).toBe('Runtime.ExitError');
  expect(exited.error?.errorMessage).toMatch(/exit status 3/);
  // AND the bystander's invocation finishes in its warm sandbox
  expect((await inFlight).response).toMatchObject({ instanceId: before.instanceId, count: 2 });
  // AND both functions go on, in new sandboxes: the thread retired, since code the quitter left
  // may still run (Lambda, too, may recycle an idle sandbox at any time)
  expect((await quitter.invoke({})).ok).toBe(true);
  const after = (await bystander.invoke({})).response as Probe;
  expect(after.instanceId).not.toBe(before.instanceId);
});

test('an uncaught exception or rejection ends the sandbox that caused it, not its neighbours', async () => {
  const lines: string[] = [];
  const thrower = host(spec('fn-thrower'), { concurrency: 1, log: (line) => lines.push(line) });
  const bystander = host(spec('fn-bystander'), { concurrency: 1 });
  for (const failure of [{ throwLater: true }, { rejectLater: true }]) {
    const inFlight = bystander.invoke({ sleepMs: 300 });
    const first = (await thrower.invoke(failure)).response as Probe;
    expect((await inFlight).ok).toBe(true);
    const second = (await thrower.invoke({})).response as Probe;
    expect(second.instanceId).not.toBe(first.instanceId);
  }
  expect(lines.join('\n')).toMatch(/\[fn-thrower\] ERROR Uncaught Error: thrown from a timer/);
  expect(lines.join('\n')).toMatch(/\[fn-thrower\] ERROR Uncaught Error: rejected with no handler/);
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

  test.each(['get', 'clientRequest', 'socket'])(
    'is frozen: code it left running sends no request after the timeout (%s)',
    async (via) => {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/late`;
      const bystander = host(spec('fn-bystander'));
      // The bystander keeps the thread busy past the timeout, so the thread is still there.
      const busy = bystander.invoke({ sleepMs: 2500 });
      const late = host(spec('fn-late', { timeoutSeconds: 1 }));
      const timedOut = await late.invoke({ requestAfterMs: 1500, url, via });
      expect(timedOut.error?.errorType).toBe('Sandbox.Timedout');
      expect((await busy).ok).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(hits).toBe(0);
    },
  );

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

test("a sandbox's process listeners see its own errors only", async () => {
  const listener = host(spec('fn-listener'), { concurrency: 1 });
  const thrower = host(spec('fn-thrower'), { concurrency: 1 });
  // GIVEN a function whose 'unhandledRejection' listener would swallow any rejection of the thread
  expect((await listener.invoke({ listenForRejections: true })).ok).toBe(true);
  // WHEN another function on the thread leaves a rejection unhandled
  const first = (await thrower.invoke({ rejectLater: true })).response as Probe;
  await new Promise((resolve) => setTimeout(resolve, 100));
  // THEN that function's sandbox ended as Lambda's would: the next invocation gets a new one
  const second = (await thrower.invoke({})).response as Probe;
  expect(second.instanceId).not.toBe(first.instanceId);
});

test("a sandbox's uncaughtException listener that exits ends that sandbox only", async () => {
  const exiter = host(spec('fn-exiter'), { concurrency: 1 });
  const bystander = host(spec('fn-bystander'), { concurrency: 1 });
  const inFlight = bystander.invoke({ sleepMs: 300 });
  await exiter.invoke({ exitOnUncaught: true });
  expect((await inFlight).ok).toBe(true);
  expect((await exiter.invoke({})).ok).toBe(true);
});

test('a global a sandbox adds while loading its code (as zod does) is its own; the function stays on the shared thread', async () => {
  const a = host(spec('fn-a'));
  const b = host(spec('fn-b'));
  const ra = (await a.invoke({})).response as Probe;
  const rb = (await b.invoke({})).response as Probe;
  expect(ra.registryOwner).toBe(ra.instanceId);
  expect(rb.registryOwner).toBe(rb.instanceId);
  expect([a.isolation, b.isolation]).toEqual(['shared', 'shared']);
  expect(pool.threadCount()).toBe(1);
});

test('a function that changes a global moves to threads of its own; its neighbours never see the change', async () => {
  const lines: string[] = [];
  const setter = host(spec('fn-setter'), { concurrency: 1, log: (line) => lines.push(line) });
  const bystander = host(spec('fn-bystander'), { concurrency: 1 });
  expect((await bystander.invoke({})).ok).toBe(true);
  // WHEN one function sets globalThis.probeGlobal (the `globalThis.client ??= ...` pattern)
  const set = (await setter.invoke({ setGlobal: true })).response as Probe;
  expect(set.seenGlobal).toBe(set.instanceId);
  // THEN it runs in threads of its own from now on, and says why
  expect(setter.isolation).toBe('thread');
  expect(lines.join('\n')).toMatch(
    /\[fn-setter\] runs in threads of its own from now on.*globalThis\.probeGlobal/,
  );
  // AND its neighbour, on a fresh shared thread, does not see the global
  const after = (await bystander.invoke({})).response as Probe;
  expect(after.seenGlobal).toBeUndefined();
  expect(bystander.isolation).toBe('shared');
  // AND the setter goes on working
  expect((await setter.invoke({})).ok).toBe(true);
});

test('a function that patches a prototype while loading runs its init once, answers, then leaves for threads of its own', async () => {
  const lines: string[] = [];
  const patcher = host(spec('fn-patcher', { handler: 'prototype-patch.handler' }), {
    concurrency: 1,
    log: (line) => lines.push(line),
  });
  const first = await patcher.invoke({});
  expect(first.response).toEqual({ last: 3 });
  expect(first.logs.filter((l) => / init$/.test(l))).toHaveLength(1);
  expect(patcher.isolation).toBe('thread');
  expect(lines.join('\n')).toMatch(/Array\.prototype\.probeLast/);
  // A neighbour on a fresh shared thread does not see the patch
  const neighbour = host(spec('fn-neighbour'));
  const seen = await neighbour.invoke({});
  expect(seen.response).toMatchObject({ arrayPatched: false });
  expect(neighbour.isolation).toBe('shared');
  expect((await patcher.invoke({})).response).toEqual({ last: 3 });
});

test('a library from outside the code directory is loaded per sandbox; only the runtime SDK is shared', async () => {
  const a = host(spec('fn-a', { handler: 'outside-lib.handler' }));
  const b = host(spec('fn-b', { handler: 'outside-lib.handler' }));
  const [ra, rb] = await Promise.all([a.invoke({}), b.invoke({})]);
  expect((ra.response as { libId: string }).libId).not.toBe((rb.response as { libId: string }).libId);
});

test('a polyfill that checks for its global finds it absent in each sandbox', async () => {
  const a = host(spec('fn-a', { handler: 'polyfill.handler' }));
  const b = host(spec('fn-b', { handler: 'polyfill.handler' }));
  for (const fn of [a, b, a]) {
    const response = (await fn.invoke({})).response as { instanceId: string; owner: string };
    expect(response.owner).toBe(response.instanceId);
  }
  expect([a.isolation, b.isolation]).toEqual(['shared', 'shared']);
});

test('a handler rejecting with a value JSON cannot print fails alone', async () => {
  const bad = host(spec('fn-bad', { handler: 'outside-lib.handler' }));
  const bystander = host(spec('fn-bystander'));
  const inFlight = bystander.invoke({ sleepMs: 300 });
  const failed = await bad.invoke({ rejectWithBigInt: true });
  expect(failed.error).toMatchObject({ errorType: 'bigint', errorMessage: '10' });
  expect((await inFlight).ok).toBe(true);
});

test('an ES module required during an invocation moves the function to threads of its own', async () => {
  const lazy = host(spec('fn-lazy', { handler: 'outside-lib.handler' }));
  const first = await lazy.invoke({ lazyEsm: true });
  expect(first.error?.errorMessage).toMatch(/is an ES module, which a shared thread cannot load/);
  expect(lazy.isolation).toBe('thread');
  expect((await lazy.invoke({ lazyEsm: true })).ok).toBe(true);
});

test('sandboxes whose loads were queued on a thread that turned tainted load elsewhere, all of them', async () => {
  const rogue = host(spec('fn-rogue'));
  const running = rogue.invoke({ setGlobalFirst: true, sleepMs: 500 });
  await new Promise((resolve) => setTimeout(resolve, 100));
  // Two cold functions: their loads reach the tainted thread in the same tick
  const [y, z] = await Promise.all([host(spec('fn-y')).invoke({}), host(spec('fn-z')).invoke({})]);
  expect((y.response as Probe).seenGlobal).toBeUndefined();
  expect((z.response as Probe).seenGlobal).toBeUndefined();
  expect((await running).ok).toBe(true);
});

test('an ES module required while loading sends the function to a thread of its own at once', async () => {
  const fn = host(spec('fn-esm-at-load', { handler: 'esm-at-load.handler' }));
  const result = await fn.invoke({});
  expect(result.ok).toBe(true);
  expect(result.durationMs).toBeLessThan(5_000);
  expect(fn.initStats()).toEqual({ instancesStarted: 1, initTimeouts: 0 });
  expect(fn.isolation).toBe('thread');
});

test('an ES module handler gets threads of its own, so each sandbox has its own module instance', async () => {
  const esm = host(spec('fn-esm', { handler: 'esm-nested/handler.handler' }), { concurrency: 2 });
  const results = await Promise.all([esm.invoke({ sleepMs: 100 }), esm.invoke({ sleepMs: 100 })]);
  const [first, second] = results.map((r) => r.response as Probe);
  expect(first!.instanceId).not.toBe(second!.instanceId);
  expect([first!.count, second!.count]).toEqual([1, 1]);
  expect(esm.isolation).toBe('thread');
  // A .mjs handler too, and its init runs once (no code of it ran on the shared thread)
  const mjs = host(spec('fn-mjs', { handler: 'esm-handler.handler' }));
  expect((await mjs.invoke({})).ok).toBe(true);
  expect(mjs.isolation).toBe('thread');
  expect(mjs.initStats()).toEqual({ instancesStarted: 1, initTimeouts: 0 });
});

test('a symlinked code directory still gives each sandbox its own modules', async () => {
  const link = join(mkdtempSync(join(tmpdir(), 'sandbox-link-')), 'code');
  symlinkSync(FIXTURES, link);
  const fn = host(spec('fn-linked', { codeDir: link }), { concurrency: 2 });
  const results = await Promise.all([fn.invoke({ sleepMs: 100 }), fn.invoke({ sleepMs: 100 })]);
  expect(results.map((r) => (r.response as Probe).count)).toEqual([1, 1]);
});

describe('stopping a host while its sandbox works', () => {
  test('ends an invocation in flight at once, as with a thread per sandbox', async () => {
    const fn = host(spec('fn-stopped', { timeoutSeconds: 30 }));
    const running = fn.invoke({ sleepMs: 20_000 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = Date.now();
    await fn.stop();
    const result = await running;
    expect(result.ok).toBe(false);
    expect(result.error?.errorType).toBe('Runtime.ExitError');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  test('ends an invocation still in its init without rejecting', async () => {
    const fn = host(
      spec('fn-slow', { handler: 'slow-init.handler', environment: { SLOW_INIT_MS: '1000' } }),
      { initTimeoutMs: 300 },
    );
    const running = fn.invoke({});
    await new Promise((resolve) => setTimeout(resolve, 100));
    await fn.stop();
    const result = await running;
    expect(result.ok).toBe(false);
  });
});
