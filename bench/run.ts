/**
 * Runs the benchmarks: every `bench/<name>.bench.ts`, one after another, in name order.
 *
 *   npm run bench                # all
 *   npm run bench -- bundles     # only bundles.bench.ts (several names allowed)
 *
 * Adding a benchmark is adding a file: `export default defineBench({ description, run })` (see
 * harness.ts). Benchmarks run sequentially so they never compete for the machine's two cores.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Bench, benchOutDir, node22, root } from './harness';

const SUFFIX = '.bench.ts';

const available = readdirSync(join(root, 'bench'))
  .filter((file) => file.endsWith(SUFFIX))
  .map((file) => file.slice(0, -SUFFIX.length))
  .sort();

const requested = process.argv.slice(2).filter((arg) => !arg.startsWith('-'));
const unknown = requested.filter((name) => !available.includes(name));
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}; available: ${available.join(', ')}`);
  process.exit(2);
}
const selected = requested.length > 0 ? available.filter((name) => requested.includes(name)) : available;

const failed: string[] = [];
for (const name of selected) {
  const module = (await import(pathToFileURL(join(root, 'bench', `${name}${SUFFIX}`)).href)) as {
    default?: Bench;
  };
  const bench = module.default;
  if (!bench || typeof bench.run !== 'function') {
    console.error(`bench/${name}${SUFFIX}: no default export made with defineBench({ description, run })`);
    failed.push(name);
    continue;
  }
  console.log(`\n=== ${name}: ${bench.description}`);
  const started = performance.now();
  try {
    await bench.run({ root, node: node22, outDir: benchOutDir(name), log: (line = '') => console.log(line) });
    console.log(`=== ${name} done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  } catch (error) {
    console.error(
      `=== ${name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    failed.push(name);
  }
}

if (failed.length > 0) {
  console.error(`\n${failed.length} benchmark(s) failed: ${failed.join(', ')}`);
  process.exitCode = 1;
}
