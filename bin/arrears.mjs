#!/usr/bin/env node
// The `arrears` command: the local runtime's CLI. TypeScript runs through tsx's loader, so the
// checkout needs no build step. Node 22 or newer (npm scripts and npx use the project's own).
import { register } from 'tsx/esm/api';

const [major] = process.versions.node.split('.').map(Number);
if (major < 22) {
  console.error(
    `arrears needs Node.js 22 or newer (this is ${process.version}). Run it through npm/npx in the checkout, which use the Node 22 from node_modules/.bin, or install Node 22.`,
  );
  process.exit(1);
}
register();
const { main } = await import('../infra/local/cli.ts');
process.exitCode = await main(process.argv.slice(2));
