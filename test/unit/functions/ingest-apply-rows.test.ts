import { describe, expect, it, vi } from 'vitest';
import { type ApplyStore, applyBatch, applyUnits } from '../../../functions/ingest-invoices/apply-rows';
import type { Account } from '../../../shared/domain/account';
import type { AccountRows, InvoiceRow } from '../../../shared/ingest';
import type { AccountChange, AccountWithInvoices } from '../../../shared/ports/account-store';
import { anAccount, anInvoice } from '../../support/builders';

const NOW = new Date('2026-03-05T12:00:00Z');
const FILE = 'inbox/acme/invoices/f.csv';

const aRow = (overrides: Partial<InvoiceRow> = {}): InvoiceRow => ({
  line: 2,
  customerId: 'C-1',
  contact: { name: 'Dana Debtor', email: 'dana@example.com' },
  invoiceId: 'INV-1',
  kind: 'invoice',
  status: 'open',
  currency: 'USD',
  amount: 10_000,
  issueDate: '2026-02-01',
  dueDate: '2026-03-01',
  referenceStructured: false,
  digest: 'd-1',
  ...overrides,
});

const groupOf = (customerId: string, rows: InvoiceRow[]): AccountRows => ({
  customerId,
  contact: rows.at(-1)!.contact,
  rows,
});

/** A store in memory: commits land (versions count up) unless `conflictOnce` names the account. */
const memoryStore = (initial: AccountWithInvoices[] = [], conflictOnce = new Set<string>()) => {
  const accounts = new Map(initial.map((entry) => [entry.account.accountId, entry]));
  const store = {
    getAccounts: vi.fn(async (_tenantId: string, ids: readonly string[]) => {
      const found = new Map<string, Account>();
      for (const id of ids) {
        const entry = accounts.get(id);
        if (entry) found.set(id, entry.account);
      }
      return found;
    }),
    getAccountsWithInvoices: vi.fn(async (_tenantId: string, ids: readonly string[]) => {
      const found = new Map<string, AccountWithInvoices>();
      for (const id of ids) {
        const entry = accounts.get(id);
        if (entry) found.set(id, entry);
      }
      return found;
    }),
    commitMany: vi.fn(async (changes: readonly AccountChange[]) => {
      const committed: Account[] = [];
      const conflicts: AccountChange[] = [];
      for (const change of changes) {
        const id = change.after.accountId;
        if (conflictOnce.delete(id)) {
          // Someone else changed the account meanwhile.
          const current = accounts.get(id)!;
          accounts.set(id, {
            ...current,
            account: { ...current.account, version: current.account.version + 1 },
          });
          conflicts.push(change);
          continue;
        }
        const stored = { ...change.after, version: (change.before?.version ?? 0) + 1 };
        const invoices = new Map(
          (accounts.get(id)?.invoices ?? []).map((invoice) => [invoice.invoiceId, invoice]),
        );
        for (const invoice of change.invoices ?? []) invoices.set(invoice.invoiceId, invoice);
        accounts.set(id, { account: stored, invoices: [...invoices.values()] });
        committed.push(stored);
      }
      return { committed, conflicts };
    }),
  } satisfies ApplyStore;
  return { store, accounts };
};

describe('applyBatch', () => {
  it('reads invoices only of the accounts that exist: a new account needs no more than the batch read', async () => {
    const known = anAccount({ accountId: 'C-1', balances: { USD: 5_000 }, openInvoiceCount: 1, version: 3 });
    const { store, accounts } = memoryStore([
      {
        account: known,
        invoices: [
          anInvoice({
            accountId: 'C-1',
            invoiceId: 'OLD-1',
            amount: 5_000,
            openAmount: 5_000,
            currency: 'USD',
          }),
        ],
      },
    ]);

    const outcome = await applyBatch(store, {
      tenantId: 'acme',
      sourceFile: FILE,
      now: NOW,
      accounts: [
        groupOf('C-1', [aRow()]),
        groupOf('C-2', [
          aRow({ customerId: 'C-2', invoiceId: 'INV-2', line: 3, kind: 'credit_note', amount: 300 }),
        ]),
      ],
    });

    expect(store.getAccounts).toHaveBeenCalledWith('acme', ['C-1', 'C-2']);
    expect(store.getAccountsWithInvoices.mock.calls).toEqual([['acme', ['C-1']]]);
    expect(outcome).toEqual({ applied: 2, created: 2, updated: 0, rejects: [], totals: { USD: 9_700 } });
    // Balances still come from all of the account's invoices, the old one included.
    expect(accounts.get('C-1')?.account).toMatchObject({ balances: { USD: 15_000 }, version: 4 });
    expect(accounts.get('C-2')?.account).toMatchObject({ balances: { USD: -300 }, version: 1 });
  });

  it('reads nothing but the accounts when every account is new', async () => {
    const { store } = memoryStore();

    await applyBatch(store, {
      tenantId: 'acme',
      sourceFile: FILE,
      now: NOW,
      accounts: [groupOf('C-9', [aRow({ customerId: 'C-9' })])],
    });

    expect(store.getAccounts).toHaveBeenCalledTimes(1);
    expect(store.getAccountsWithInvoices).not.toHaveBeenCalled();
  });

  it('reads an account again and plans again when its commit met a newer version', async () => {
    const known = anAccount({ accountId: 'C-1', balances: {}, openInvoiceCount: 0, version: 1 });
    const { store, accounts } = memoryStore([{ account: known, invoices: [] }], new Set(['C-1']));

    const outcome = await applyBatch(store, {
      tenantId: 'acme',
      sourceFile: FILE,
      now: NOW,
      accounts: [groupOf('C-1', [aRow()])],
    });

    expect(outcome).toMatchObject({ applied: 1, created: 1, rejects: [] });
    expect(store.commitMany).toHaveBeenCalledTimes(2);
    expect(store.commitMany.mock.calls[1]?.[0][0]?.before?.version).toBe(2);
    expect(accounts.get('C-1')?.account.version).toBe(3);
  });

  it('counts a row already applied as applied, and changes nothing for it', async () => {
    const { store } = memoryStore();
    const accounts = [groupOf('C-1', [aRow()])];
    await applyBatch(store, { tenantId: 'acme', sourceFile: FILE, now: NOW, accounts });

    const again = await applyBatch(store, { tenantId: 'acme', sourceFile: FILE, now: NOW, accounts });

    expect(again).toEqual({ applied: 1, created: 0, updated: 0, rejects: [], totals: { USD: 10_000 } });
    expect(store.commitMany).toHaveBeenCalledTimes(1);
  });
});

describe('applyUnits', () => {
  const unitsOfOne = (count: number): AccountRows[][] =>
    Array.from({ length: count }, (_, i) => [
      groupOf(`C-${i}`, [aRow({ customerId: `C-${i}`, invoiceId: `INV-${i}`, line: i + 2 })]),
    ]);

  it('keeps at most `concurrency` units in flight and adds up their outcomes', async () => {
    const { store } = memoryStore();
    let inFlight = 0;
    let most = 0;
    const commitMany = store.commitMany.getMockImplementation()!;
    store.commitMany.mockImplementation(async (changes) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight -= 1;
      return commitMany(changes);
    });

    const total = await applyUnits(store, unitsOfOne(9), {
      tenantId: 'acme',
      sourceFile: FILE,
      now: () => NOW,
      concurrency: 3,
    });

    expect(most).toBe(3);
    expect(total).toMatchObject({ applied: 9, created: 9, totals: { USD: 90_000 } });
  });

  it('starts no unit after one failed, lets those in flight end, and throws the failure', async () => {
    const { store, accounts } = memoryStore();
    const commitMany = store.commitMany.getMockImplementation()!;
    let calls = 0;
    store.commitMany.mockImplementation(async (changes) => {
      calls += 1;
      if (calls === 2) throw new Error('killed');
      await new Promise((resolve) => setTimeout(resolve, 10));
      return commitMany(changes);
    });

    await expect(
      applyUnits(store, unitsOfOne(6), {
        tenantId: 'acme',
        sourceFile: FILE,
        now: () => NOW,
        concurrency: 2,
      }),
    ).rejects.toThrow('killed');

    expect(calls).toBe(2);
    expect([...accounts.keys()]).toEqual(['C-0']);
  });
});
