import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildOptions } from 'esbuild';

/** The repository root: NodejsFunction's projectRoot and the esbuild working directory. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * An ES module has no `require`; a CommonJS dependency bundled into it may still call it for a
 * Node built-in. The banner gives the module a real one (the form Powertools documents).
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire } from 'node:module';const require = createRequire(import.meta.url);";

/**
 * THE bundling options of every function. The stack (through NodejsFunction, which runs esbuild's
 * CLI) and the bundle benchmark (through esbuild's API) both derive from this object, and
 * test/infra/lambda-bundle.test.ts checks that the two produce the same bytes.
 */
export const lambdaBundle = {
  /** ESM: top-level await and the newer import graph; Lambda loads `.mjs` as a module. */
  format: 'esm',
  /** The Lambda runtime's Node version: no syntax is lowered for an older engine. */
  target: 'node22',
  /** Prefer packages' ESM builds so esbuild can drop what a function does not import. */
  mainFields: ['module', 'main'],
  banner: ESM_REQUIRE_BANNER,
  minify: true,
  /** Stack traces in the logs point at the TypeScript source (the function sets --enable-source-maps). */
  sourcemap: true,
  /**
   * Nothing is external, not even the AWS SDK v3: the runtime's SDK changes under a function without
   * a deploy, while a bundled one is the version in package-lock.json that the tests ran against,
   * and esbuild keeps only the commands the function uses.
   */
  external: [] as readonly string[],
  /** The file name NodejsFunction gives an ESM bundle. */
  outfile: 'index.mjs',
} as const;

/** Node flags of the deployed functions; the benchmark starts its processes with the same ones. */
export const LAMBDA_NODE_OPTIONS = '--enable-source-maps';

/** The same options for esbuild's API: what `esbuild --bundle <entry>` receives from NodejsFunction. */
export const esbuildOptions = (entry: string, outdir: string): BuildOptions => ({
  entryPoints: [entry],
  bundle: true,
  platform: 'node',
  absWorkingDir: repoRoot,
  outfile: join(outdir, lambdaBundle.outfile),
  format: lambdaBundle.format,
  target: lambdaBundle.target,
  mainFields: [...lambdaBundle.mainFields],
  banner: { js: lambdaBundle.banner },
  minify: lambdaBundle.minify,
  sourcemap: lambdaBundle.sourcemap,
  external: [...lambdaBundle.external],
  logLevel: 'warning',
});
