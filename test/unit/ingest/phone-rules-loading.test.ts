import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { copyBundleFiles, esbuildOptions, repoRoot } from '../../../infra/constructs/lambda-bundle';

/** Counts, in a global, every evaluation of a libphonenumber-js module in the bundle. */
const MARK = '__arrearsPhoneModulesEvaluated';
const markPhoneModules: Plugin = {
  name: 'mark-libphonenumber',
  setup(plugin) {
    plugin.onLoad({ filter: /[\\/]libphonenumber-js[\\/].*\.js$/ }, (args) => ({
      contents: `globalThis.${MARK} = (globalThis.${MARK} ?? 0) + 1;\n${readFileSync(args.path, 'utf8')}`,
      loader: 'js',
    }));
  },
};

const outdir = mkdtempSync(join(tmpdir(), 'arrears-phone-bundle-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe('libphonenumber-js loads lazily in a function bundle', () => {
  it('is not evaluated when the ingest module is imported, only once rows are to be read', async () => {
    // shared/ingest bundled with the stack's own esbuild options, as a function bundles it.
    const options = esbuildOptions(join(repoRoot, 'shared/ingest/index.ts'), outdir);
    await build({ ...options, sourcemap: false, plugins: [markPhoneModules], logLevel: 'silent' });
    copyBundleFiles(outdir);
    const global = globalThis as Record<string, unknown>;
    delete global[MARK];
    const ingest = await import(pathToFileURL(options.outfile!).href);
    expect(global[MARK]).toBeUndefined();

    const csv =
      'customerId,customerName,phone,country,invoiceId,currency,amount,issueDate,dueDate\nC-1,Acme,030 1234567,DE,I-1,EUR,1.00,2026-01-01,2026-01-31\n';
    const { batches, summary } = await ingest.collectInvoiceFile({
      body: [Buffer.from(csv)],
      fileName: 'lazy.csv',
      format: {},
    });
    expect(global[MARK]).toBeGreaterThan(0);
    expect(summary.valid).toBe(1);
    expect(batches[0].accounts[0].contact.phone).toBe('+49301234567');
    delete global[MARK];
  });
});
