/**
 * Where the product's own Lambda entry points (the outbox relay and poller) live, both in this
 * repository (TypeScript sources, run through ts-node/ts-jest) and in the installed package
 * (`dist/`, compiled JavaScript only). NodejsFunction bundles either with esbuild.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';

const FUNCTIONS_DIR = path.join(__dirname, '..', 'lambdas', 'functions');

/** Absolute path of `lambdas/functions/<name>.ts`, or of its compiled `.js` in the package. */
export function productFunctionEntry(name: string): string {
  const source = path.join(FUNCTIONS_DIR, `${name}.ts`);
  if (existsSync(source)) return source;
  const compiled = path.join(FUNCTIONS_DIR, `${name}.js`);
  if (existsSync(compiled)) return compiled;
  throw new Error(
    `Switchyard's ${name} function is missing (looked for ${source} and ${compiled}); reinstall the package.`,
  );
}
