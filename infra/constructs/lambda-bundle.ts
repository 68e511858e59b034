import { copyFileSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import type { BuildOptions } from 'esbuild';
import { ConfigError } from '../../shared/config';
import { PHONE_METADATA_DEFINE } from '../../shared/ingest/phone-library';
import { BUNDLED_TENANTS_DEFINE, validateTenantRegistry } from '../../shared/runtime/tenants';

/** The repository root: NodejsFunction's projectRoot and the esbuild working directory. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * An ES module has no `require`; a CommonJS dependency bundled into it may still call it for a
 * Node built-in. The banner gives the module a real one (the form Powertools documents).
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire } from 'node:module';const require = createRequire(import.meta.url);";

/**
 * `config/tenants.json` validated and parsed now, in JSON, for the bundles to carry (see
 * loadBundledTenants in shared/runtime/tenants.ts). An invalid registry throws here, so the build
 * fails instead of every cold start after the deploy.
 */
export const bundledTenantRegistryJson = (file = join(repoRoot, 'config/tenants.json')): string => {
  const registry = validateTenantRegistry(JSON.parse(readFileSync(file, 'utf8')), file);
  const json = JSON.stringify(registry);
  // The function reads this back without the schema: only plain JSON data survives the trip.
  if (!isDeepStrictEqual(JSON.parse(json), registry)) {
    throw new ConfigError(`${file}: the parsed registry is not plain JSON data, it cannot be bundled parsed`);
  }
  return json;
};

/** The name of the phone metadata file beside each bundle (see shared/ingest/phone-library.ts). */
export const PHONE_METADATA_FILE = 'phone-metadata.json';

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
   * The map holds positions only, not a copy of every source file. With --enable-source-maps Node
   * reads and parses the whole map while it loads the bundle, before any code runs: the sources
   * made it about 3x larger (send-notice 2.5 MB -> 0.9 MB), 1-3% of the import at every cold start
   * (10-25 M instructions; 3-9 ms on this machine), and a stack trace needs only the positions.
   */
  sourcesContent: false,
  /**
   * Nothing is external, not even the AWS SDK v3: the runtime's SDK changes under a function without
   * a deploy, while a bundled one is the version in package-lock.json that the tests ran against,
   * and esbuild keeps only the commands the function uses.
   */
  external: [] as readonly string[],
  /**
   * Build-time constants: the tenant registry, validated and parsed once here rather than at each
   * cold start; the name of the phone metadata file (shared/ingest/phone-library.ts says why).
   */
  define: {
    [BUNDLED_TENANTS_DEFINE]: JSON.stringify(bundledTenantRegistryJson()),
    [PHONE_METADATA_DEFINE]: JSON.stringify(PHONE_METADATA_FILE),
  } as Readonly<Record<string, string>>,
  /**
   * Data files copied beside the bundle, by name: read when first needed instead of being parsed
   * as code at every cold start. Every function carries them (one set of options for all); the
   * phone metadata is 83 KB, about 19 KB of each zip, and only the ingest reads it.
   */
  files: {
    [PHONE_METADATA_FILE]: createRequire(import.meta.url).resolve('libphonenumber-js/metadata.min.json'),
  } as Readonly<Record<string, string>>,
  /** The file name NodejsFunction gives an ESM bundle. */
  outfile: 'index.mjs',
} as const;

/** Copies `lambdaBundle.files` into a bundle's folder: the esbuild API path's afterBundling step. */
export const copyBundleFiles = (outdir: string): void => {
  for (const [name, source] of Object.entries(lambdaBundle.files)) copyFileSync(source, join(outdir, name));
};

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
  sourcesContent: lambdaBundle.sourcesContent,
  external: [...lambdaBundle.external],
  define: { ...lambdaBundle.define },
  logLevel: 'warning',
});
