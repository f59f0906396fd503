/**
 * The synthesis-only `npx` (local/template/npx-esbuild-shim.ts): `npx --no-install esbuild` runs the
 * project's esbuild directly; every other call, and a project without a local esbuild, reaches the
 * real npx unchanged.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { findOnPath, withNpxEsbuildShim } from '../local/template/npx-esbuild-shim';

const repo = join(__dirname, '..');
const made: string[] = [];

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A stand-in for the real npx that says it was called, and with what. */
function fakeNpxPath(): string {
  const dir = tempDir('fake-npx-');
  writeFileSync(join(dir, 'npx'), '#!/bin/sh\necho "real npx: $*"\n', { mode: 0o755 });
  return `${dir}:${process.env.PATH}`;
}

function run(env: NodeJS.ProcessEnv, cwd: string, args: string[]): string {
  return execFileSync('npx', args, { env, cwd, encoding: 'utf8' }).trim();
}

const onPosix = process.platform === 'win32' ? test.skip : test;

onPosix('`npx --no-install esbuild` runs the nearest local esbuild without npx', () => {
  const shim = withNpxEsbuildShim({ ...process.env, PATH: fakeNpxPath() });
  try {
    const localVersion = execFileSync(join(repo, 'node_modules', '.bin', 'esbuild'), ['--version'], {
      encoding: 'utf8',
    }).trim();
    expect(run(shim.env, repo, ['--no-install', 'esbuild', '--version'])).toBe(localVersion);
    // From a subdirectory too: the search walks up to the project's node_modules, as npx does.
    expect(run(shim.env, join(repo, 'example', 'functions'), ['--no-install', 'esbuild', '--version'])).toBe(
      localVersion,
    );
  } finally {
    shim.remove();
  }
});

onPosix('every other call, and a project without esbuild, goes to the real npx with its arguments', () => {
  const shim = withNpxEsbuildShim({ ...process.env, PATH: fakeNpxPath() });
  try {
    expect(run(shim.env, repo, ['--no-install', 'tsc', '--version'])).toBe(
      'real npx: --no-install tsc --version',
    );
    expect(run(shim.env, repo, ['esbuild', '--version'])).toBe('real npx: esbuild --version');
    const elsewhere = tempDir('no-esbuild-');
    expect(run(shim.env, elsewhere, ['--no-install', 'esbuild', '--version'])).toBe(
      'real npx: --no-install esbuild --version',
    );
  } finally {
    shim.remove();
  }
});

onPosix('remove() deletes the shim; without an npx on PATH nothing changes', () => {
  const shim = withNpxEsbuildShim({ ...process.env, PATH: fakeNpxPath() });
  const shimDir = dirname(realpathSync(findOnPath('npx', shim.env.PATH)!));
  expect(existsSync(shimDir)).toBe(true);
  shim.remove();
  expect(existsSync(shimDir)).toBe(false);

  const bare = { PATH: tempDir('empty-path-') };
  expect(withNpxEsbuildShim(bare).env).toBe(bare);
});

onPosix('relative PATH entries and directories are not taken for the real npx', () => {
  // An executable ./npx in the current directory: with "." kept, the shim could exec itself for ever.
  const cwd = tempDir('relative-');
  writeFileSync(join(cwd, 'npx'), '#!/bin/sh\necho wrong\n', { mode: 0o755 });
  const notAFile = tempDir('dir-named-npx-');
  rmSync(notAFile, { recursive: true });
  mkdirSync(join(notAFile, 'npx'), { recursive: true });
  const fake = fakeNpxPath().split(':')[0]!;
  const path = ['.', 'bin', notAFile, fake].join(':');
  const previous = process.cwd();
  process.chdir(cwd);
  try {
    expect(findOnPath('npx', path)).toBe(join(fake, 'npx'));
  } finally {
    process.chdir(previous);
  }
});
