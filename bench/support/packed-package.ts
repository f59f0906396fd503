/**
 * The package as a user's app gets it: `npm pack` of the repository (its `prepack` builds dist/,
 * CommonJS and the ES module build of the runtime) unpacked into `<appDir>/node_modules/<name>`.
 * Its own dependencies resolve from the repository's node_modules (pass it as esbuild's nodePaths),
 * so no registry is involved.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The environment without npm's script variables, so `npm pack` behaves as in a user's shell. */
function shellEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('npm_')));
}

/** Packs `root` and unpacks the tarball into `appDir/node_modules/<package name>`; returns that path. */
export function installPackedPackage(root: string, appDir: string): string {
  const { name } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string };
  const packDir = mkdtempSync(join(tmpdir(), 'switchyard-bench-pack-'));
  try {
    const output = execFileSync('npm', ['pack', '--json', '--pack-destination', packDir], {
      cwd: root,
      encoding: 'utf8',
      env: shellEnvironment(),
      maxBuffer: 64 * 1024 * 1024,
    });
    // prepack's own output precedes the JSON array on stdout.
    const [packed] = JSON.parse(output.slice(output.indexOf('\n[') + 1 || output.indexOf('['))) as {
      filename: string;
    }[];
    const target = join(appDir, 'node_modules', name);
    mkdirSync(target, { recursive: true });
    execFileSync('tar', ['xzf', join(packDir, packed!.filename), '-C', target, '--strip-components=1']);
    return target;
  } finally {
    rmSync(packDir, { recursive: true, force: true });
  }
}
