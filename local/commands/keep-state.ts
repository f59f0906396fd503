/**
 * The state file `switchyard local --keep` writes while it runs, so `switchyard invoke` can run a
 * function against that cloud (same emulators, same SSM parameters, same role credentials)
 * instead of deploying a throwaway one. It lives with the synth cache, under the app's
 * `node_modules/.cache/switchyard/`, and is removed when the cloud stops.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { LocalCloud } from '../cloud';
import type { LocalFunctionDefinition } from '../template/resources/lambda';

export interface KeptFunction extends LocalFunctionDefinition {}

export interface KeptCloudState {
  readonly pid: number;
  /** The gateway URL every service answers on. */
  readonly endpoint: string;
  readonly region: string;
  readonly startedAt: string;
  /** Each function with the full environment it runs with in the kept cloud. */
  readonly functions: readonly KeptFunction[];
}

export function keepStateFile(appDir: string): string {
  return join(resolve(appDir), 'node_modules', '.cache', 'switchyard', 'local-cloud.json');
}

export function writeKeepState(appDir: string, cloud: LocalCloud): string {
  const file = keepStateFile(appDir);
  mkdirSync(join(file, '..'), { recursive: true });
  const state: KeptCloudState = {
    pid: process.pid,
    endpoint: cloud.endpoints.snsSqs,
    region: cloud.region,
    startedAt: new Date().toISOString(),
    functions: cloud.functions().map((f) => ({ ...f, environment: cloud.functionEnvironment(f) })),
  };
  writeFileSync(file, JSON.stringify(state, null, 2));
  return file;
}

export function removeKeepState(appDir: string): void {
  const file = keepStateFile(appDir);
  // Only our own: a second `--keep` in the same app may have replaced it.
  if (readKeepStateFile(file)?.pid === process.pid) rmSync(file, { force: true });
}

function readKeepStateFile(file: string): KeptCloudState | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as KeptCloudState;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The running kept cloud of this app, or undefined (none, its process ended, or its gateway is gone). */
export async function findKeptCloud(appDir: string): Promise<KeptCloudState | undefined> {
  const state = readKeepStateFile(keepStateFile(appDir));
  if (!state || !alive(state.pid)) return undefined;
  const answering = await fetch(state.endpoint, { method: 'POST', body: '' }).then(
    () => true,
    () => false,
  );
  return answering ? state : undefined;
}
