import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { text } from 'node:stream/consumers';
import { fileURLToPath } from 'node:url';
import { LOCAL_RESOURCES, type LocalRuntime } from './runtime';

/** The demo's virtual start: the example invoices are dated around it. */
export const DEMO_START = '2026-03-02T14:00:00.000Z';
/** Day of the demo on which the corrections in examples/day-12 arrive. */
const CORRECTIONS_DAY = 12;

const examplesDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples');

const filesUnder = async (dir: string): Promise<string[]> => {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
};

interface ReceiptLike {
  tenantId: string;
  fileName: string;
  rowsRead: number;
  applied: number;
  rejected: number;
  duplicateFile: boolean;
  rejects: { line: number; field: string; reason: string }[];
  quarantine?: string;
}

/** Puts every file under `inboxRoot` (laid out as inbox/{tenant}/invoices/...) into the bucket. */
const dropFiles = async (runtime: LocalRuntime, root: string): Promise<ReceiptLike[]> => {
  const watch = runtime.watchReceipts();
  for (const file of await filesUnder(join(root, 'inbox'))) {
    await runtime.putInboxFile(relative(root, file).split('\\').join('/'), await readFile(file));
  }
  await runtime.drainQueues();
  return (await watch.stop()) as unknown as ReceiptLike[];
};

/** Copies the receipts, quarantine files and reports out of the local bucket into `<dataDir>/view`. */
const copyOut = async (runtime: LocalRuntime): Promise<string> => {
  const viewDir = join(runtime.dataDir, 'view');
  for (const [bucket, prefix] of [
    [LOCAL_RESOURCES.inboxBucket, 'receipts/'],
    [LOCAL_RESOURCES.reportsBucket, 'reports/'],
  ] as const) {
    for await (const key of runtime.deps.blobs.list(bucket, prefix)) {
      const target = join(viewDir, key);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, await text((await runtime.deps.blobs.get(bucket, key)).body));
    }
  }
  return viewDir;
};

/**
 * The demo behind `npm start`: the example invoice files arrive, the days go by on the virtual
 * clock with a daily aging scan per tenant, the ladders send their notices, a correction file
 * cancels one debt on day 12 (its ladder stops), and the reports are exported.
 */
export const runDemo = async (runtime: LocalRuntime, options: { days: number }) => {
  const start = runtime.clock.now();
  const receipts = await dropFiles(runtime, examplesDir);
  const correctionsAt = new Date(start.getTime() + CORRECTIONS_DAY * 86_400_000);
  const end = new Date(start.getTime() + options.days * 86_400_000);
  const first = await runtime.advanceTo(correctionsAt < end ? correctionsAt : end);
  const scans = [...first.scans];
  if (correctionsAt < end) {
    receipts.push(...(await dropFiles(runtime, join(examplesDir, 'day-12'))));
    scans.push(...(await runtime.advanceTo(end)).scans);
  }
  await runtime.exportReports();
  const outbox = await runtime.writeOutbox();
  const viewDir = await copyOut(runtime);

  const tenants = runtime.deps.tenants.all();
  const accounts = { total: 0, overdue: 0, cured: 0, open: 0, stopped: 0 };
  const byRung = new Map<string, number>();
  for (const tenant of tenants) {
    for await (const account of runtime.deps.store.listAccounts(tenant.tenantId)) {
      for (const notice of await runtime.deps.store.listNotices(tenant.tenantId, account.accountId)) {
        const key = `${tenant.tenantId} ${notice.rungId}`;
        byRung.set(key, (byRung.get(key) ?? 0) + 1);
      }
      accounts.total += 1;
      if (account.cycle) accounts.overdue += 1;
      if (account.cycle?.status === 'cured') accounts.cured += 1;
      if (account.cycle?.status === 'active') accounts.open += 1;
      if (account.cycle?.status === 'stopped') accounts.stopped += 1;
    }
  }
  const emails = await runtime.servers.ses.sentEmails();
  const rows = receipts.reduce(
    (sum, r) => ({
      read: sum.read + r.rowsRead,
      applied: sum.applied + r.applied,
      rejected: sum.rejected + r.rejected,
    }),
    { read: 0, applied: 0, rejected: 0 },
  );
  const json = {
    from: start.toISOString(),
    to: runtime.clock.now().toISOString(),
    files: receipts.map((r) => ({
      tenantId: r.tenantId,
      fileName: r.fileName,
      rowsRead: r.rowsRead,
      applied: r.applied,
      rejected: r.rejected,
      duplicateFile: r.duplicateFile,
      quarantine: r.quarantine ?? null,
    })),
    invoiceRows: rows,
    quarantined: receipts.flatMap((r) => r.rejects.map((x) => ({ file: r.fileName, ...x }))),
    agingScans: scans.length,
    accounts,
    noticesSent: emails.length,
    noticesByRung: Object.fromEntries([...byRung].sort()),
    where: { outbox: outbox.dir, receiptsAndReports: viewDir, dataDir: runtime.dataDir },
  };
  const text = [
    `Arrears demo: ${json.from} → ${json.to} on the virtual clock (${options.days} days)`,
    '',
    `Invoice files: ${receipts.length}; rows read ${rows.read}, applied ${rows.applied}, quarantined ${rows.rejected}`,
    ...receipts.map(
      (r) =>
        `  ${r.tenantId}/${r.fileName}: ${r.rowsRead} read, ${r.applied} applied, ${r.rejected} rejected${r.duplicateFile ? ' (duplicate)' : ''}`,
    ),
    ...(json.quarantined.length > 0 ? ['Quarantined rows:'] : []),
    ...json.quarantined.map((q) => `  ${q.file} line ${q.line}, ${q.field}: ${q.reason}`),
    '',
    `Accounts: ${accounts.total}; went overdue ${accounts.overdue} (ladder running ${accounts.open}, ladder ended with the debt open ${accounts.stopped}, cured ${accounts.cured})`,
    `Aging scans run: ${scans.length}`,
    `Notices sent through the local SES v2 server: ${emails.length}`,
    ...[...byRung].sort().map(([rung, count]) => `  ${String(count).padStart(3)} × ${rung}`),
    '',
    'Where to look:',
    `  notices:              ${outbox.dir}/`,
    `  receipts, quarantine: ${join(viewDir, 'receipts')}/`,
    `  aging reports (CSV):  ${join(viewDir, 'reports')}/`,
    '  accounts:             npx arrears accounts --tenant acme',
    '  one account explained: npx arrears explain C-1001 --tenant acme',
  ].join('\n');
  return { json, text };
};
