/**
 * The session file of a running `switchyard local --keep`, `<appDir>/.switchyard/local-session.json`:
 * its endpoints, region and functions (with the environment each runs with), so commands in another
 * terminal use that cloud instead of starting one: `switchyard invoke` runs a function against it,
 * `switchyard dlq ... --local` and `outbox replay --local` act on its queues. Written when the cloud
 * is up, removed when it stops; a file left by a killed process is recognised by its dead pid.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { LocalCloud } from './cloud';
import type { LocalEndpoints } from './endpoints';
import type { LocalFunctionDefinition } from './template/resources/lambda';

export interface LocalSession {
  readonly pid: number;
  readonly region: string;
  readonly endpoints: LocalEndpoints;
  readonly startedAt: string;
  /** Each function with the full environment it runs with in this cloud. */
  readonly functions: readonly LocalFunctionDefinition[];
}

export function sessionFile(appDir: string): string {
  return join(resolve(appDir), '.switchyard', 'local-session.json');
}

/** What another terminal needs to know of `cloud`. */
export function sessionOf(cloud: LocalCloud): LocalSession {
  return {
    pid: process.pid,
    region: cloud.region,
    endpoints: cloud.endpoints,
    startedAt: new Date().toISOString(),
    functions: cloud.functions().map((f) => ({ ...f, environment: cloud.functionEnvironment(f) })),
  };
}

export function writeSession(appDir: string, session: LocalSession): string {
  const file = sessionFile(appDir);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(session, null, 2)}\n`);
  return file;
}

/** Removes the file if it is this process's session (another session may have replaced it). */
export function removeSession(appDir: string, pid = process.pid): void {
  if (readSessionFile(appDir)?.pid === pid) rmSync(sessionFile(appDir), { force: true });
}

/** The session of the app in `appDir` whose process still runs, or undefined. */
export function readSession(appDir: string): LocalSession | undefined {
  const session = readSessionFile(appDir);
  return session && isAlive(session.pid) ? session : undefined;
}

/** Like `readSession`, and its gateway answers (a process that reused the pid is not a cloud). */
export async function findLiveSession(appDir: string): Promise<LocalSession | undefined> {
  const session = readSession(appDir);
  if (!session) return undefined;
  const answering = await fetch(session.endpoints.snsSqs, { method: 'POST', body: '' }).then(
    () => true,
    () => false,
  );
  return answering ? session : undefined;
}

function readSessionFile(appDir: string): LocalSession | undefined {
  try {
    return JSON.parse(readFileSync(sessionFile(appDir), 'utf8')) as LocalSession;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0 only checks that the process exists
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
