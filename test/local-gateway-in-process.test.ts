/**
 * The gateway's socket-free hops, over the emulators' real request handling: the local cloud's own
 * clients calling the gateway in-process (local/iam/in-process-handler.ts), and the gateway calling
 * the fauxqs of its process through Fastify's inject (local/sns-sqs.ts), beside the HTTP paths.
 * Also a caller that goes away in the middle of a long poll, on every path: the emulator must not
 * take a message for it. The scenarios run in a child process (test/support/in-process-gateway-child.ts).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type Observations, PATHS } from './support/in-process-gateway-child';

jest.setTimeout(180_000);
let observed: Observations;

beforeAll(async () => {
  const root = join(__dirname, '..');
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['-r', 'esbuild-register', join(root, 'test', 'support', 'in-process-gateway-child.ts')],
    { cwd: root, timeout: 170_000, maxBuffer: 10 * 1024 * 1024 },
  );
  observed = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Observations;
});

describe.each(PATHS)('%s', (path) => {
  test('a message keeps body and attributes, and queue URLs name the gateway', () => {
    const seen = observed.paths[path]!;
    expect(seen.queueUrlNamesGateway).toBe(true);
    expect(seen.received).toEqual([['{"orderId":"o-1","note":"ünïcødé ✓"}', 'OrderPlaced']]);
  });

  test('an emulator error reaches the SDK as the exception class AWS raises', () => {
    expect(observed.paths[path]!.missingQueueError).toEqual({ isQueueDoesNotExist: true, fault: 'client' });
  });

  test('a long poll whose caller went away takes nothing: the next message goes to the next receive', () => {
    expect(observed.paths[path]!.abandonedPolls).toEqual(
      [0, 1, 2].map((round) => ({ aborted: 'AbortError', nextReceive: [`after-abort-${round}#1`] })),
    );
  });
});

describe('in-process client', () => {
  test('S3: an object put and read back, its body a stream as the SDK expects', () => {
    expect(observed.s3RoundTrip).toEqual({ length: 300_000, equal: true });
  });

  test('DynamoDB: calls go on to DynamoDB Local over HTTP', () => {
    expect(observed.dynamodbItem).toEqual({ pk: { S: 'k' }, n: { N: '7' } });
  });

  test('a call aborted before it starts is not sent', () => {
    expect(observed.preAborted).toEqual({ outcome: 'AbortError', messagesSent: 0 });
  });
});
