import { describe, expect, it, vi } from 'vitest';
import {
  AccountReadPolicy,
  type ApplyStore,
  applyBatch,
  applyUnits,
} from '../../../functions/ingest-invoices/apply-rows';
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
  ...overrides,
});

const groupOf = (customerId: string, rows: InvoiceRow[]): AccountRows => ({
  customerId,
  contact: rows.at(-1)!.contact,
  rows,
});

/**
 * A store in memory: a commit lands (versions count up) when the account is as the change read it
 * (absent for a new one), as the DynamoDB conditions have it; `conflictOnce` makes an account
 * change under the commit once.
 */
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
        if (accounts.get(id)?.account.version !== change.before?.version) {
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

/** C-1 exists at version 3 with one open invoice OLD-1 of USD 50.00. */
const storeWithKnownC1 = () =>
  memoryStore([
    {
      account: anAccount({ accountId: 'C-1', balances: { USD: 5_000 }, openInvoiceCount: 1, version: 3 }),
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

describe('applyBatch', () => {
  it('reads invoices only of the accounts that exist: a new account needs no more than the batch read', async () => {
    const { store, accounts } = storeWithKnownC1();

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

describe('AccountReadPolicy', () => {
  it('reads until the warm-up is done, then skips while almost no account existed', () => {
    const policy = new AccountReadPolicy(0.01, 300);
    expect(policy.skipReads).toBe(false);
    policy.record(128, 0);
    policy.record(128, 0);
    expect(policy.skipReads).toBe(false);
    policy.record(128, 1);
    expect(policy.skipReads).toBe(true);
  });

  it('reads again once known accounts show up, and never skips with a share of 0', () => {
    const policy = new AccountReadPolicy(0.01, 100);
    for (let unit = 0; unit < 5; unit++) policy.record(128, 0);
    expect(policy.skipReads).toBe(true);
    policy.record(128, 20);
    expect(policy.skipReads).toBe(false);

    const always = new AccountReadPolicy(0, 0);
    always.record(128, 0);
    expect(always.skipReads).toBe(false);
  });
});

describe('applyBatch without reading first', () => {
  const skipping = () => {
    const policy = new AccountReadPolicy(1, 0);
    expect(policy.skipReads).toBe(true);
    return policy;
  };

  it('plans new accounts without a read; a known one fails as new, is read and updated, never overwritten', async () => {
    const { store, accounts } = storeWithKnownC1();
    const reads = skipping();
    const spy = vi.spyOn(reads, 'record');

    const outcome = await applyBatch(store, {
      tenantId: 'acme',
      sourceFile: FILE,
      now: NOW,
      reads,
      accounts: [
        groupOf('C-1', [aRow({ customerId: 'C-1', invoiceId: 'INV-1' })]),
        groupOf('C-2', [aRow({ customerId: 'C-2', invoiceId: 'INV-2', line: 3 })]),
      ],
    });

    expect(store.getAccounts).not.toHaveBeenCalled();
    expect(store.getAccountsWithInvoices).toHaveBeenCalledWith('acme', ['C-1']);
    expect(outcome).toMatchObject({ applied: 2, created: 2, rejects: [] });
    expect(accounts.get('C-1')!.account.version).toBe(4);
    expect(
      accounts
        .get('C-1')!
        .invoices.map((invoice) => invoice.invoiceId)
        .sort(),
    ).toEqual(['INV-1', 'OLD-1']);
    expect(accounts.get('C-1')!.account.balances).toEqual({ USD: 15_000 });
    expect(accounts.get('C-2')!.account.version).toBe(1);
    expect(spy).toHaveBeenCalledWith(2, 1);
  });
});
