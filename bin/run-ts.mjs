// Runs a TypeScript file through tsx's loader: `node bin/run-ts.mjs bench/round.ts [args]`.
import { register } from 'tsx/esm/api';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

register();
const [node, , file, ...rest] = process.argv;
if (file === undefined) {
  console.error('usage: node bin/run-ts.mjs FILE.ts [args]');
  process.exit(2);
}
process.argv = [node, file, ...rest];
await import(pathToFileURL(resolve(file)).href);
