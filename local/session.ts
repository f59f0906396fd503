/**
 * The session file of a running `switchyard local --keep`: its endpoints and region, so operator
 * commands (`switchyard dlq ... --local`) find it from another terminal. Written when the cloud is
 * up, removed when it stops; a file left by a killed process is recognised by its dead pid.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalEndpoints } from './endpoints';

export interface LocalSession {
  readonly pid: number;
  readonly region: string;
  readonly endpoints: LocalEndpoints;
  readonly startedAt: string;
}

/** `<appDir>/.switchyard/local-session.json`. */
export function sessionFile(appDir: string): string {
  return join(appDir, '.switchyard', 'local-session.json');
}

export function writeSession(appDir: string, session: LocalSession): string {
  const file = sessionFile(appDir);
  mkdirSync(join(appDir, '.switchyard'), { recursive: true });
  writeFileSync(file, `${JSON.stringify(session, null, 2)}\n`);
  return file;
}

/** Removes the file if it is this process's session (another session may have replaced it). */
export function removeSession(appDir: string, pid = process.pid): void {
  const session = readSessionFile(appDir);
  if (session?.pid === pid) rmSync(sessionFile(appDir), { force: true });
}

/** The running session of the app in `appDir`, or undefined when none is running. */
export function readSession(appDir: string): LocalSession | undefined {
  const session = readSessionFile(appDir);
  return session && isAlive(session.pid) ? session : undefined;
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
