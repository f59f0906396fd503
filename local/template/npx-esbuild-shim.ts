/**
 * A faster `npx` for synthesis only. When esbuild is a project dependency, NodejsFunction bundles
 * every function with `npx --no-install esbuild ...`, and starting npx (the npm CLI) costs about
 * 0.25 s before esbuild runs: for the example's 12 bundles, 3 s of an 8 s synthesis. The synth
 * child gets a PATH whose first `npx` runs the nearest `node_modules/.bin/esbuild` directly for
 * exactly that command (where `npx --no-install` would find it) and hands every other call, or a
 * project without a local esbuild, to the real npx. The bundles are the same bytes either way.
 *
 * @example
 * const shim = withNpxEsbuildShim(process.env);
 * try { spawnTheApp(shim.env); } finally { shim.remove(); }
 */
import { accessSync, constants, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';

/**
 * The first executable file `name` on `path`, like the shell finds it. Relative entries are skipped:
 * they would resolve against whatever directory the shim later runs in (and `.` could find the shim
 * itself, which would exec itself for ever).
 */
export function findOnPath(name: string, path: string | undefined): string | undefined {
  for (const dir of (path ?? '').split(delimiter)) {
    if (!isAbsolute(dir)) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** POSIX shell single-quoting. */
function quoted(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function shimScript(realNpx: string): string {
  return `#!/bin/sh
# Written by Switchyard's synthesis (local/template/npx-esbuild-shim.ts): runs the project's
# esbuild without starting npm for \`npx --no-install esbuild\`; everything else goes to npx.
if [ "$1" = "--no-install" ] && [ "$2" = "esbuild" ]; then
  dir=$PWD
  while :; do
    if [ -x "$dir/node_modules/.bin/esbuild" ]; then
      shift 2
      exec "$dir/node_modules/.bin/esbuild" "$@"
    fi
    [ "$dir" = / ] && break
    dir=$(dirname "$dir")
  done
fi
exec ${quoted(realNpx)} "$@"
`;
}

/**
 * `env` with the shim's directory first on PATH, and how to remove the shim after the synthesis;
 * `env` unchanged on Windows or when there is no npx on its PATH to hand the other calls to.
 */
export function withNpxEsbuildShim(env: NodeJS.ProcessEnv): {
  readonly env: NodeJS.ProcessEnv;
  remove(): void;
} {
  const realNpx = process.platform === 'win32' ? undefined : findOnPath('npx', env.PATH);
  if (!realNpx) return { env, remove: () => undefined };
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-npx-'));
  writeFileSync(join(dir, 'npx'), shimScript(realNpx), { mode: 0o755 });
  return {
    env: { ...env, PATH: `${dir}${delimiter}${env.PATH ?? ''}` },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
