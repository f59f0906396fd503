/**
 * The SNS/SQS emulator in a child process of its own, so the bench can read its CPU time from
 * /proc apart from the local cloud's (in `npm start` it runs inside the local cloud's process).
 * Run as a script, it starts the emulator and prints `{"endpoint": ...}` on stdout; it exits when
 * its stdin closes (the parent died or stopped it).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { startSnsSqs } from '../../local/sns-sqs';

export interface SnsSqsProcess {
  readonly endpoint: string;
  readonly pid: number;
  stop(): Promise<void>;
}

export async function spawnSnsSqs(): Promise<SnsSqsProcess> {
  const root = resolve(__dirname, '..', '..');
  const child: ChildProcess = spawn(
    process.execPath,
    ['-r', 'esbuild-register', resolve(__dirname, 'sns-sqs-process.ts')],
    { cwd: root, stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, SWITCHYARD_SNS_SQS_CHILD: '1' } },
  );
  const endpoint = await new Promise<string>((resolveEndpoint, reject) => {
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const line = output.split('\n').find((l) => l.startsWith('{'));
      if (line) resolveEndpoint((JSON.parse(line) as { endpoint: string }).endpoint);
    });
    child.once('exit', (code) =>
      reject(new Error(`SNS/SQS emulator process exited (${code}) before it listened`)),
    );
  });
  return {
    endpoint,
    pid: child.pid!,
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        child.stdin?.end();
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}

if (require.main === module && process.env.SWITCHYARD_SNS_SQS_CHILD === '1') {
  startSnsSqs().then((emulator) => {
    process.stdout.write(`${JSON.stringify({ endpoint: emulator.endpoint })}\n`);
    process.stdin.resume();
    process.stdin.once('end', () => {
      void emulator.stop().then(() => process.exit(0));
    });
  });
}
