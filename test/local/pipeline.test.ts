import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRuntime } from '../../infra/local/runtime';
import { verifyChain } from '../../shared/domain/audit';

const ACME_FILE = 'examples/inbox/acme/invoices/2026-03-02-open-items.csv';
const CORRECTIONS = 'examples/day-12/inbox/acme/invoices/2026-03-14-corrections.csv';

/**
 * The thin end-to-end path on real local servers: an invoice file dropped in the inbox is
 * ingested into DynamoDB Local, the aging scan finds the overdue accounts, the ladder's ASL file
 * runs in the interpreter, and the first reminder goes out through the local SES v2 server.
 */
describe('invoice file to first reminder, on the local runtime', () => {
  let dataDir: string;
  let runtime: LocalRuntime;

  const drop = async (key: string, file: string) => {
    const watch = runtime.watchReceipts();
    await runtime.putInboxFile(key, await readFile(file));
    await runtime.drainQueues();
    return watch.stop();
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'arrears-pipeline-'));
    runtime = await LocalRuntime.open({ dataDir, now: '2026-03-02T14:00:00Z' });
  });
  afterAll(async () => {
    await runtime?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('ingests the file, quarantining its bad rows with line, field and reason', async () => {
    const [receipt] = await drop('inbox/acme/invoices/open-items.csv', ACME_FILE);
    expect(receipt).toMatchObject({
      rowsRead: 13,
      applied: 8,
      rejected: 5,
      duplicateFile: false,
      totals: { USD: 1_638_074 },
    });
    expect(receipt?.rejects).toContainEqual(
      expect.objectContaining({
        line: 11,
        field: 'Amount',
        reason: '"12.345" has 3 decimals, but USD has 2',
      }),
    );
    const account = await runtime.deps.store.getAccount('acme', 'C-1001');
    expect(account).toMatchObject({
      balances: { USD: 156_050 },
      oldestDueDate: '2026-02-14',
      openInvoiceCount: 2,
    });
  });

  it('starts a ladder for each overdue account and sends the first reminder inside the contact window', async () => {
    await runtime.advanceTo(new Date('2026-03-03T14:00:00Z'));
    const emails = (await runtime.servers.ses.sentEmails()).filter((email) =>
      email.destination.to.includes('dana.whitfield@example.com'),
    );
    expect(emails).toHaveLength(1);
    expect(emails[0]?.subject).toBe('Friendly reminder: USD 1,560.50 is past due');
    expect(emails[0]?.body.text).toContain('INV-2026-0101, due 2026-02-14: USD 1,250.00');
    expect(emails[0]?.headers).toContainEqual({
      name: 'List-Unsubscribe',
      value: '<https://pay.acme.example/opt-out>',
    });

    const notices = await runtime.deps.store.listNotices('acme', 'C-1001');
    // 13:00 UTC is 08:00 in New York, the first minute the debtor may be contacted that day.
    expect(notices).toEqual([
      expect.objectContaining({ rungId: 'reminder', status: 'sent', sentAt: '2026-03-03T13:00:00.000Z' }),
    ]);
    const account = await runtime.deps.store.getAccount('acme', 'C-1001');
    const execution = runtime.runner.describe(account?.cycle?.executionName ?? '');
    expect(execution?.status).toBe('PARKED');
    expect(execution?.path.map((step) => step.state)).toContain('SendNotice');
  });

  it('records each step in an audit trail whose hash chain verifies', async () => {
    const trail = await runtime.deps.store.auditTrail('acme', 'C-1001');
    expect(trail.map((entry) => entry.action)).toEqual([
      'invoices.ingested',
      'cycle.opened',
      'ladder.started',
      'notice.sent',
    ]);
    expect(verifyChain(trail)).toMatchObject({ ok: true, length: 4 });
  });

  it('changes nothing when the same file is dropped again, and says so', async () => {
    const before = await runtime.deps.store.getAccount('acme', 'C-1001');
    const [receipt] = await drop('inbox/acme/invoices/open-items-again.csv', ACME_FILE);
    expect(receipt).toMatchObject({ duplicateFile: true, applied: 0 });
    expect((await runtime.deps.store.getAccount('acme', 'C-1001'))?.version).toBe(before?.version);
  });

  it('stops the ladder of a debt that a later file cancels', async () => {
    expect((await runtime.deps.store.getAccount('acme', 'C-1005'))?.cycle?.status).toBe('active');
    const [receipt] = await drop('inbox/acme/invoices/corrections.csv', CORRECTIONS);
    expect(receipt).toMatchObject({ applied: 2, rejected: 0 });
    await runtime.advanceTo(new Date('2026-03-20T14:00:00Z'));
    const account = await runtime.deps.store.getAccount('acme', 'C-1005');
    expect(account?.cycle?.status).toBe('cured');
    expect(runtime.runner.describe(account?.cycle?.executionName ?? '')?.status).toBe('SUCCEEDED');
    const cancelledAt = '2026-03-03T14:00:00.000Z';
    const notices = await runtime.deps.store.listNotices('acme', 'C-1005');
    expect(notices.filter((notice) => (notice.sentAt ?? notice.createdAt) > cancelledAt)).toEqual([]);
    const trail = await runtime.deps.store.auditTrail('acme', 'C-1005');
    expect(trail.at(-1)).toMatchObject({ action: 'cycle.cured', reason: 'nothing is owed any more' });
  });
});
