/**
 * The example's interaction styles on the local cloud (its own DynamoDB Local and SNS/SQS
 * emulator), driven over HTTP with curl as the README shows: the function URL answers 202 with a
 * status reference at once and the status query shows the order approved later; a delivery quote
 * round publishes to three couriers, the cheapest answer within 2 s wins, the slow courier's
 * answer comes late, and each round records one dispatch (the DispatchCourier notification).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GetQueueAttributesCommand, ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { COURIERS } from '../example/delivery';

jest.setTimeout(300_000);
const run = promisify(execFile);
const repo = join(__dirname, '..');
const scratch = mkdtempSync(join(tmpdir(), 'switchyard-example-styles-'));
const reportFile = join(scratch, 'run.html');

let cli: ChildProcess;
let url: string;
let sqsEndpoint: string;
const output: string[] = [];

/** curl with SigV4 signing (the function URL uses AWS_IAM auth), as the README shows. */
async function curl(method: string, path: string, body?: unknown, signed = true) {
  const args = ['-s', '-w', '\\n%{http_code}', '-X', method, `${url.replace(/\/$/, '')}${path}`];
  if (signed) args.push('--aws-sigv4', 'aws:amz:us-east-1:lambda', '--user', 'local:local');
  if (body !== undefined) args.push('-H', 'content-type: application/json', '-d', JSON.stringify(body));
  const { stdout } = await run('curl', args);
  const lines = stdout.trimEnd().split('\n');
  const status = Number(lines.pop());
  return { status, body: JSON.parse(lines.join('\n') || '{}') };
}

async function poll<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  // The CLI as a user runs it: its own emulators, a small workload, then it stays up for curl.
  cli = spawn(
    process.execPath,
    [
      join(repo, 'bin', 'switchyard.js'),
      'local',
      '--keep',
      '--orders',
      '20',
      '--report-html',
      reportFile,
      '--app-dir',
      repo,
    ],
    { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  cli.stdout?.on('data', (chunk: Buffer) => output.push(...chunk.toString().split('\n')));
  cli.stderr?.on('data', (chunk: Buffer) => output.push(...chunk.toString().split('\n')));
  await poll(
    async () => (output.some((l) => l.includes('Local cloud running')) ? true : undefined),
    `switchyard local --keep (output so far:\n${output.slice(-20).join('\n')})`,
    280_000,
  );
  const value = (prefix: string) =>
    output
      .find((l) => l.trim().startsWith(prefix))
      ?.split('=')
      .slice(1)
      .join('=')
      .trim();
  url = value('OrderApiUrl')!;
  sqsEndpoint = value('export AWS_ENDPOINT_URL_SQS')!;
}, 300_000);

afterAll(async () => {
  if (!cli || cli.exitCode !== null) return;
  const exited = new Promise((resolve) => cli.once('exit', resolve));
  cli.kill('SIGINT');
  await exited;
});

/** What the order API answers about a finished round of delivery quotes. */
interface QuoteRound {
  status: string;
  completedBy: string;
  duplicateReplies: number;
  lateReplies: number;
  quotes: { courierId: string; price: number }[];
  dispatch: { courierId: string | null; price: number | null };
}

describe('example interaction styles on the local cloud', () => {
  test('the function URL is served on 127.0.0.1 and refuses unsigned requests like AWS_IAM does', async () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect((await curl('POST', '/orders', { customerId: 'c-1', items: [] }, false)).status).toBe(403);
  });

  test('POST /orders answers 202 with a status reference at once; the status query shows APPROVED later', async () => {
    const placed = await curl('POST', '/orders', {
      customerId: 'c-1',
      items: [{ sku: 'pizza', quantity: 2, unitPrice: 9.5 }],
    });
    expect(placed.status).toBe(202);
    expect(placed.body).toMatchObject({ status: 'PENDING', statusUrl: `/orders/${placed.body.orderId}` });
    const approved = await poll(async () => {
      const r = await curl('GET', placed.body.statusUrl);
      return r.body.status === 'APPROVED' ? r.body : undefined;
    }, 'order approval');
    expect(approved.ticketId).toBe(`ticket-${placed.body.orderId}`);
    // Bad input: 400 saying what was wrong, nothing committed.
    const bad = await curl('POST', '/orders', { customerId: '', items: [] });
    expect(bad.status).toBe(400);
    expect(bad.body.issues.map((i: { path: string }) => i.path)).toEqual(['customerId', 'items']);
  });

  test('GET /orders/{id}/eta: request/reply with the client waiting on its pending request, or 202 to poll', async () => {
    const placed = await curl('POST', '/orders', {
      customerId: 'c-2',
      items: [{ sku: 'soup', quantity: 1, unitPrice: 4 }],
    });
    await poll(
      async () => ((await curl('GET', placed.body.statusUrl)).body.status === 'APPROVED' ? true : undefined),
      'approval',
    );
    // The first call may find kitchen-eta cold and answer 202; the reply then lands on the record.
    const answers = [];
    for (let i = 0; i < 2; i++) {
      const asked = await curl('GET', `/orders/${placed.body.orderId}/eta`);
      expect([200, 202]).toContain(asked.status);
      const reply =
        asked.status === 200
          ? asked.body
          : await poll(async () => {
              const record = (await curl('GET', asked.body.statusUrl)).body;
              return record.lateReply ?? record.reply ?? undefined;
            }, 'the late ETA reply');
      answers.push(reply);
    }
    for (const answer of answers)
      expect(answer).toMatchObject({ orderId: placed.body.orderId, status: 'ACCEPTED', minutes: 20 });
  });

  test('delivery quotes: the cheapest answer within 2 s wins, the slow courier is late, one dispatch per round', async () => {
    const rounds: QuoteRound[] = [];
    for (let round = 0; round < 2; round++) {
      const asked = await curl('POST', `/orders/order-${round}/delivery-quotes`, {
        pickupAddress: '1 Main St',
        dropoffAddress: '9 Elm St',
      });
      expect(asked.status).toBe(202);
      rounds.push(
        await poll(async () => {
          const r = await curl('GET', asked.body.statusUrl);
          return r.body.dispatch && r.body.lateReplies >= 1 ? r.body : undefined;
        }, 'dispatch and the late reply'),
      );
    }
    const slow = COURIERS.find((c) => c.id === 'courier-slow')!;
    for (const result of rounds) {
      const quotes = result.quotes;
      expect(result).toMatchObject({ status: 'COMPLETE', completedBy: 'deadline', duplicateReplies: 0 });
      expect(quotes.map((q) => q.courierId)).not.toContain(slow.id);
      const cheapest = [...quotes].sort((a, b) => a.price - b.price)[0];
      expect(result.dispatch).toEqual({
        courierId: cheapest?.courierId ?? null,
        price: cheapest?.price ?? null,
      });
    }
    // Warm couriers answer within the deadline: the second round has a winner.
    expect(rounds[1]!.dispatch.courierId).not.toBeNull();
    // No DLQ holds anything, and the workload run wrote its annotated picture.
    const sqs = new SQSClient({
      endpoint: sqsEndpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
    });
    const { QueueUrls = [] } = await sqs.send(new ListQueuesCommand({}));
    for (const queue of QueueUrls.filter((q) => /dlq|DeadLetter|FailureQueue/i.test(q))) {
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: queue, AttributeNames: ['ApproximateNumberOfMessages'] }),
      );
      expect({ queue, messages: Attributes?.ApproximateNumberOfMessages }).toEqual({ queue, messages: '0' });
    }
    sqs.destroy();
    expect(output.join('\n')).toContain('OK: every order completed');
    // The report says how busy the machine was and where the CPU went (DynamoDB Local's JVM included).
    expect(output.join('\n')).toMatch(
      /Machine during the workload: load avg [\d.]+, machine \d+% busy, other processes \d+% of \d+ cores, steal \d+%; [\d.]+ s of CPU in this process \(.*\), [\d.]+ s in DynamoDB Local\./,
    );
    expect(existsSync(reportFile)).toBe(true);
    const html = readFileSync(reportFile, 'utf8');
    expect(html).toContain('<svg');
    expect(html).toMatch(/20 msgs/);
  });
});
