import type { Account, Invoice } from '../../shared/domain/account';
import { GENESIS_HASH } from '../../shared/domain/audit';
import { openCycle } from '../../shared/domain/ladder';
import { loadBundledTenants } from '../../shared/runtime/tenants';

/** Test data builders: plain objects shaped like stored data, overridable per test. */
export const tenants = loadBundledTenants();
export const acme = tenants.get('acme');

export const anAccount = (overrides: Partial<Account> = {}): Account => ({
  tenantId: 'acme',
  accountId: 'CUST-1',
  contact: { name: 'Dana Debtor', email: 'dana@example.com', timeZone: 'America/New_York' },
  flags: { disputed: false, ceaseContact: false, emailOptOut: false },
  balances: { USD: 125_000 },
  oldestDueDate: '2026-03-01',
  openInvoiceCount: 1,
  version: 1,
  auditSeq: 0,
  auditHead: GENESIS_HASH,
  createdAt: '2026-02-01T00:00:00.000Z',
  updatedAt: '2026-02-01T00:00:00.000Z',
  ...overrides,
});

/** An account in its first active cycle, opened at `at`. */
export const anAccountInCycle = (at: string, overrides: Partial<Account> = {}): Account => {
  const account = anAccount(overrides);
  return { ...account, cycle: { ...openCycle(account, new Date(at)), executionStarted: true } };
};

export const anInvoice = (overrides: Partial<Invoice> = {}): Invoice => ({
  tenantId: 'acme',
  accountId: 'CUST-1',
  invoiceId: 'INV-1',
  kind: 'invoice',
  currency: 'USD',
  amount: 125_000,
  openAmount: 125_000,
  issueDate: '2026-02-01',
  dueDate: '2026-03-01',
  status: 'open',
  source: { file: 'inbox/acme/invoices/a.csv', line: 2 },
  digest: 'd',
  updatedAt: '2026-02-01T00:00:00.000Z',
  ...overrides,
});
