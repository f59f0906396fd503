/**
 * Bundles worker-preload.ts to one CommonJS file for the function workers, which load plain
 * JavaScript (ts-node hooks only the main thread). The SDK stays external so the workers patch
 * the same SDK modules the functions load. Written under node_modules/.cache so the bundle
 * resolves the SDK from the project's node_modules.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildSync } from 'esbuild';

export function buildWorkerPreload(projectDir: string): string {
  const outDir = join(projectDir, 'node_modules', '.cache', 'switchyard-chaos');
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, 'worker-preload.js');
  buildSync({
    entryPoints: [join(__dirname, 'worker-preload.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['@aws-sdk/*', '@smithy/*'],
    outfile,
    logLevel: 'silent',
  });
  return outfile;
}
