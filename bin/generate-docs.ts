/**
 * Regenerates the example's generated documents, so they cannot drift from the constructs:
 * `docs/asyncapi.json` (AsyncAPI 3.0) and `docs/topology.svg` (embedded in the README).
 * `npm run docs`; test/topology-asyncapi.test.ts fails when they are stale.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exampleAsyncApi, exampleTopology } from '../example/topology';
import { renderSvg } from '../lib/topology/diagram';

export const DOCS_DIR = join(__dirname, '..', 'docs');

async function main(): Promise<void> {
  const model = exampleTopology();
  writeFileSync(join(DOCS_DIR, 'asyncapi.json'), `${JSON.stringify(exampleAsyncApi(model), null, 2)}\n`);
  writeFileSync(join(DOCS_DIR, 'topology.svg'), await renderSvg([model]));
  console.log(`Wrote ${join(DOCS_DIR, 'asyncapi.json')} and ${join(DOCS_DIR, 'topology.svg')}`);
}

if (require.main === module) {
  main().catch((error: Error) => {
    console.error(error.stack ?? error.message);
    process.exit(1);
  });
}
