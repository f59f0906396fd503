#!/usr/bin/env node
// The repository's development launcher (`npm run switchyard -- <command>`): runs the TypeScript CLI
// through ts-node (transpile only: fast start, type errors are `npm run build`'s job). The installed
// package's `switchyard` bin is the compiled dist/bin/cli.js instead, with no ts-node at run time.
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
