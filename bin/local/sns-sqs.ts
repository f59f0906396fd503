/**
 * Starts the SNS/SQS emulator (npm `fauxqs` 1.9.x) in this process on a free 127.0.0.1 port.
 * fauxqs' own `startFauxqs` listens on 0.0.0.0, so we build its app and bind it ourselves.
 */
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
  buildApp(options: { logger?: boolean; defaultRegion?: string }): {
    listen(options: { port: number; host: string }): Promise<string>;
    close(): Promise<void>;
  };
}

export async function startSnsSqs(options: { port?: number; region?: string } = {}): Promise<SnsSqsEmulator> {
  const { buildApp } = await importEsm<FauxqsModule>('fauxqs');
  const port = options.port ?? (await freePort());
  const app = buildApp({
    logger: false,
    defaultRegion: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
  });
  await app.listen({ port, host: LOOPBACK });
  return { endpoint: `http://${LOOPBACK}:${port}`, port, stop: () => app.close() };
}
