import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const node = join(root, 'node_modules/.bin/node');
const bin = join(root, 'bin/arrears.mjs');

/** Runs the real `arrears` command in a child process; never throws, returns code and output. */
const arrears = async (...args: string[]) => {
  try {
    const { stdout, stderr } = await run(node, [bin, ...args], {
      cwd: root,
      env: { ...process.env, ARREARS_NOW: '' },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
};

describe('the arrears command', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'arrears-cli-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('prints usage and exits non-zero on a wrong argument', async () => {
    const unknown = await arrears('frobnicate');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    expect(unknown.stderr).toContain('Usage: arrears <command>');
    const noTenant = await arrears('accounts', '--data-dir', dataDir);
    expect(noTenant.code).toBe(2);
    expect(noTenant.stderr).toContain('--tenant <id> is required');
    const badDays = await arrears('simulate', '--days', 'soon', '--data-dir', dataDir);
    expect(badDays.code).toBe(2);
  });

  it('ingests a file and prints its receipt as JSON', async () => {
    const result = await arrears(
      'ingest',
      'examples/inbox/acme/invoices/2026-03-02-open-items.csv',
      '--tenant',
      'acme',
      '--json',
      '--data-dir',
      dataDir,
      '--now',
      '2026-03-02T14:00:00Z',
    );
    expect(result.code).toBe(0);
    const receipt = JSON.parse(result.stdout);
    expect(receipt).toMatchObject({
      rowsRead: 13,
      applied: 8,
      rejected: 5,
      duplicateFile: false,
      totals: { USD: 1_638_074 },
    });
    expect(receipt.rejects[0]).toEqual({ line: 11, field: 'Email', reason: expect.any(String) });
  });

  it('keeps state and the virtual clock between commands', async () => {
    const again = JSON.parse(
      (
        await arrears(
          'ingest',
          'examples/inbox/acme/invoices/2026-03-02-open-items.csv',
          '--tenant',
          'acme',
          '--json',
          '--data-dir',
          dataDir,
        )
      ).stdout,
    );
    expect(again).toMatchObject({ duplicateFile: true, applied: 0 });

    const simulated = JSON.parse(
      (await arrears('simulate', '--days', '2', '--json', '--data-dir', dataDir)).stdout,
    );
    expect(simulated).toMatchObject({ from: '2026-03-02T14:00:00.000Z', to: '2026-03-04T14:00:00.000Z' });
    expect(simulated.noticesSent).toBeGreaterThan(0);

    const accounts = JSON.parse(
      (await arrears('accounts', '--tenant', 'acme', '--json', '--data-dir', dataDir)).stdout,
    );
    const dana = accounts.find((account: { accountId: string }) => account.accountId === 'C-1001');
    expect(dana).toMatchObject({
      balances: { USD: 156_050 },
      daysPastDue: 18,
      cycle: { status: 'active', rungId: 'reminder' },
      openInvoices: [
        expect.objectContaining({ invoiceId: 'INV-2026-0101', openAmount: 125_000 }),
        expect.anything(),
      ],
    });
  });

  it('explains an account: its audit chain, notices and next step', async () => {
    const result = await arrears('explain', 'C-1001', '--tenant', 'acme', '--json', '--data-dir', dataDir);
    expect(result.code).toBe(0);
    const explanation = JSON.parse(result.stdout);
    expect(explanation.audit.chain).toEqual({ intact: true, length: 4 });
    expect(explanation.notices).toEqual([expect.objectContaining({ rungId: 'reminder', status: 'sent' })]);
    expect(explanation.nextStep).toMatchObject({ action: 'wait' });
    const missing = await arrears('explain', 'NOPE', '--tenant', 'acme', '--data-dir', dataDir);
    expect(missing.code).toBe(1);
  });
});
