#!/usr/bin/env node
// The package's `bin` entry: runs the TypeScript CLI through ts-node (transpile only: fast start,
// type errors are `npm run build`'s job).
require('ts-node').register({
  transpileOnly: true,
  files: false,
  project: require('node:path').join(__dirname, '..', 'tsconfig.json'),
});
const { main } = require('./cli');

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(error?.stack ? error.stack : error);
    process.exit(1);
  },
);
