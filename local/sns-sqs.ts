/**
 * Starts the SNS/SQS emulator (npm `fauxqs` 1.9.x) in this process on a free 127.0.0.1 port.
 * fauxqs' own `startFauxqs` listens on 0.0.0.0, so we build its app and bind it ourselves.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  abandonedReceiveQueueClass,
  type PreHandlerApp,
  trackReceiveConnections,
} from './fauxqs-abandoned-receive';
import { awsFifoStoreClass, type FauxqsQueueClass, type FauxqsStoreClass } from './fauxqs-fifo';
import { type HookableApp, keepTraceHeaders } from './fauxqs-trace-header';
import { freePort, LOOPBACK } from './ports';

export interface SnsSqsEmulator {
  readonly endpoint: string;
  readonly port: number;
  stop(): Promise<void>;
}

// fauxqs ships ESM only; a Function-wrapped import() survives the CommonJS transpile.
const importEsm = new Function('specifier', 'return import(specifier)') as <T>(
  specifier: string,
) => Promise<T>;

interface FauxqsModule {
  // Without `host`, queue URLs use the request's host (127.0.0.1:port), which the SDK can reach.
  buildApp(options: {
    logger?: boolean;
    defaultRegion?: string;
    stores?: { sqsStore: unknown };
  }): HookableApp &
    PreHandlerApp & {
      listen(options: { port: number; host: string }): Promise<string>;
      close(): Promise<void>;
    };
}

/**
 * fauxqs' SqsStore defaults its host to "localhost", so queue URLs read
 * http://sqs.<region>.localhost:<port>/..., which does not resolve here; and an SDK client configured
 * only through AWS_ENDPOINT_URL_SQS (every local function) sends to the queue URL's host. A store
 * with no host names queues after the request's Host (127.0.0.1:<port>), which resolves. SqsStore
 * is not exported, so it is loaded from the pinned package's file. Its queues hand out FIFO
 * messages as SQS does (several of one group per receive): see fauxqs-fifo.ts; and a long poll whose
 * client has gone takes nothing: see fauxqs-abandoned-receive.ts.
 */
async function resolvableSqsStore(): Promise<unknown> {
  const root = (require.resolve.paths('fauxqs') ?? [])
    .map((dir) => join(dir, 'fauxqs'))
    .find((dir) => existsSync(join(dir, 'dist', 'sqs', 'sqsStore.js')));
  if (!root) return undefined;
  const { SqsStore, SqsQueue } = await importEsm<{ SqsStore: FauxqsStoreClass; SqsQueue: FauxqsQueueClass }>(
    pathToFileURL(join(root, 'dist', 'sqs', 'sqsStore.js')).href,
  );
  const AwsFifoStore = awsFifoStoreClass(SqsStore, abandonedReceiveQueueClass(SqsQueue));
  const store = new AwsFifoStore() as InstanceType<FauxqsStoreClass> & { host?: string };
  store.host = undefined;
  return store;
}

export async function startSnsSqs(options: { port?: number; region?: string } = {}): Promise<SnsSqsEmulator> {
  const { buildApp } = await importEsm<FauxqsModule>('fauxqs');
  const port = options.port ?? (await freePort());
  const sqsStore = await resolvableSqsStore();
  const app = buildApp({
    logger: false,
    ...(sqsStore ? { stores: { sqsStore } } : {}),
    defaultRegion: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
  });
  // fauxqs drops AWSTraceHeader; keep it, as SQS does (see fauxqs-trace-header.ts).
  if (sqsStore) keepTraceHeaders(app, sqsStore as Parameters<typeof keepTraceHeaders>[1]);
  // fauxqs keeps waiting for a client that aborted its long poll (see fauxqs-abandoned-receive.ts).
  if (sqsStore) trackReceiveConnections(app);
  await app.listen({ port, host: LOOPBACK });
  return { endpoint: `http://${LOOPBACK}:${port}`, port, stop: () => app.close() };
}
