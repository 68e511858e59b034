import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { build, type Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArrearsFunction } from '../../infra/constructs/arrears-function';
import {
  bundledTenantRegistryJson,
  copyBundleFiles,
  ESM_REQUIRE_BANNER,
  esbuildOptions,
  lambdaBundle,
  PHONE_METADATA_FILE,
} from '../../infra/constructs/lambda-bundle';
import { functionSpec } from '../../infra/functions';
import { ConfigError } from '../../shared/config';
import { loadPhoneRules, normalisePhone, normalisePhoneWithLibrary } from '../../shared/ingest/phone-numbers';
import { loadBundledTenants } from '../../shared/runtime/tenants';
import { cdkContext, FIXTURE_ENTRY } from './synth-arrears';

/**
 * The stack bundles through NodejsFunction (esbuild's CLI), the benchmark through esbuild's API.
 * Both derive from `lambdaBundle`; this bundles one entry both ways and compares the bytes, so a
 * change to either path that makes them drift fails here.
 */
let cdkBundle: string;
let apiBundle: string;
let apiBundleFile: string;
let apiMetafile: Metafile;
let cdkAssetDir: string;
let apiOutdir: string;
const PHONE_ENTRY = 'test/infra/fixtures/phone-entry.ts';
const temporary: string[] = [];
const temporaryDir = (prefix: string): string => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temporary.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});

beforeAll(async () => {
  const app = new App({ context: cdkContext, outdir: temporaryDir('arrears-bundle-cdk-') });
  const stack = new Stack(app, 'BundleCheck', { env: { region: 'eu-west-1' } });
  new ArrearsFunction(stack, 'Check', {
    spec: functionSpec('ladder-evaluate'),
    entry: FIXTURE_ENTRY,
    environment: {},
    logRetention: RetentionDays.ONE_DAY,
  });
  const assembly = app.synth();
  const [, fn] = Object.entries(Template.fromStack(stack).findResources('AWS::Lambda::Function'))[0]!;
  const assetHash = (fn.Properties.Code.S3Key as string).replace(/\.zip$/, '');
  cdkAssetDir = join(assembly.directory, `asset.${assetHash}`);
  cdkBundle = readFileSync(join(cdkAssetDir, lambdaBundle.outfile), 'utf8');

  apiOutdir = temporaryDir('arrears-bundle-api-');
  // The metafile is written beside the output; the bundle's bytes are the same with or without it.
  const result = await build({ ...esbuildOptions(FIXTURE_ENTRY, apiOutdir), metafile: true });
  copyBundleFiles(apiOutdir);
  apiMetafile = result.metafile;
  apiBundleFile = join(apiOutdir, lambdaBundle.outfile);
  apiBundle = readFileSync(apiBundleFile, 'utf8');
});

describe('lambda bundling', () => {
  it('produces the same bundle through NodejsFunction and through esbuild with the shared options', () => {
    expect(cdkBundle.length).toBeGreaterThan(1000); // zod is bundled, not left external
    expect(apiBundle).toBe(cdkBundle);
  });

  it('puts the same data files beside the bundle on both paths', () => {
    const files = (dir: string) => readdirSync(dir).filter((name) => !name.startsWith(lambdaBundle.outfile));
    expect(files(cdkAssetDir).sort()).toEqual(Object.keys(lambdaBundle.files).sort());
    expect(files(apiOutdir).sort()).toEqual(Object.keys(lambdaBundle.files).sort());
    for (const name of Object.keys(lambdaBundle.files)) {
      expect(readFileSync(join(cdkAssetDir, name))).toEqual(readFileSync(join(apiOutdir, name)));
    }
  });

  it('emits an ES module with a working require and a source map', () => {
    expect(cdkBundle.startsWith(ESM_REQUIRE_BANNER)).toBe(true);
    expect(cdkBundle).toMatch(/export\s*\{[^}]*as handler\s*\}/);
    expect(cdkBundle.trimEnd().endsWith(`//# sourceMappingURL=${lambdaBundle.outfile}.map`)).toBe(true);
    expect(existsSync(join(cdkAssetDir, `${lambdaBundle.outfile}.map`))).toBe(true);
  });

  it('carries the tenant registry parsed when it was built, not the raw JSON to parse at cold start', async () => {
    // The output's inputs: what made it into the bundle (the metafile's own list has all it read).
    const bundledInputs = Object.values(apiMetafile.outputs).flatMap((output) => Object.keys(output.inputs));
    expect(bundledInputs).toContain('shared/runtime/tenants.ts');
    expect(bundledInputs).not.toContain('config/tenants.json');
    const bundled = (await import(pathToFileURL(apiBundleFile).href)) as {
      handler: (event: unknown) => Promise<{ tenants: string[] }>;
    };
    const { tenants } = await bundled.handler({});
    expect(tenants).toEqual(
      loadBundledTenants()
        .all()
        .map((tenant) => tenant.tenantId),
    );
    expect(tenants.length).toBeGreaterThan(0);
  });

  it('reads the phone metadata from the file beside the bundle, and numbers with it as the package does', async () => {
    const outdir = temporaryDir('arrears-bundle-phone-');
    const result = await build({ ...esbuildOptions(PHONE_ENTRY, outdir), metafile: true });
    copyBundleFiles(outdir);
    const bundledInputs = Object.values(result.metafile.outputs).flatMap((output) =>
      Object.keys(output.inputs),
    );
    expect(bundledInputs).toContain('shared/ingest/phone-library.ts');
    expect(bundledInputs.filter((input) => input.includes('metadata.min.json'))).toEqual([]);
    // Not in the code either: a country's metadata entry (GB's calling code and patterns) is absent.
    const code = readFileSync(join(outdir, lambdaBundle.outfile), 'utf8');
    expect(readFileSync(join(outdir, PHONE_METADATA_FILE), 'utf8')).toContain('"GB":["44"');
    expect(code).not.toContain('"GB":["44"');
    expect(code).not.toContain('\\"GB\\":[\\"44\\"');
    const numbers: [string, string | undefined][] = [
      ['+44 20 7946 0958', undefined],
      ['030 1234567', 'DE'],
      ['(212) 555-0123', 'US'],
      ['0044 20 7946 0958', 'GB'],
      ['+49 123', undefined],
      ['not a phone', 'FR'],
    ];
    const bundled = (await import(pathToFileURL(join(outdir, lambdaBundle.outfile)).href)) as {
      handler: (event: unknown) => Promise<unknown>;
    };
    await loadPhoneRules();
    expect(await bundled.handler({ numbers })).toEqual(
      numbers.map(([text, country]) => [
        normalisePhone(text, country),
        normalisePhoneWithLibrary(text, country),
      ]),
    );
  });

  it('fails the build on an invalid tenant registry', () => {
    const dir = temporaryDir('arrears-tenants-');
    const file = join(dir, 'tenants.json');
    writeFileSync(file, JSON.stringify({ tenants: [{ tenantId: 'acme', name: '' }] }));
    expect(() => bundledTenantRegistryJson(file)).toThrow(ConfigError);
    expect(() => bundledTenantRegistryJson(file)).toThrow(/tenants\.json is invalid: tenants\.0\.name/);
  });
});
