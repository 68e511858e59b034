import { addToBalances, type Balances } from '../money';
import type { Account, Invoice } from './account';

export interface AccountSummary {
  balances: Balances;
  oldestDueDate: string | undefined;
  openInvoiceCount: number;
}

/**
 * What an account owes, derived from its invoices: open amounts per currency and the oldest
 * unpaid due date. Credit notes reduce the balance of their currency and never make a due date.
 */
export const summarizeInvoices = (invoices: readonly Invoice[]): AccountSummary => {
  let balances: Balances = {};
  let oldestDueDate: string | undefined;
  let openInvoiceCount = 0;
  for (const invoice of invoices) {
    if (invoice.status !== 'open' || invoice.openAmount === 0) continue;
    const signed = invoice.kind === 'credit_note' ? -invoice.openAmount : invoice.openAmount;
    balances = addToBalances(balances, invoice.currency, signed);
    if (invoice.kind === 'invoice') {
      openInvoiceCount += 1;
      if (oldestDueDate === undefined || invoice.dueDate < oldestDueDate) oldestDueDate = invoice.dueDate;
    }
  }
  return { balances, oldestDueDate, openInvoiceCount };
};

/**
 * The account with balances, oldest due date and open count derived again from all of its
 * invoices, so they can never drift from them. A cycle whose ladder stopped without a cure is
 * closed as cured once nothing is owed any more.
 */
export const withDerivedBalances = (account: Account, invoices: readonly Invoice[], at: string): Account => {
  const { oldestDueDate: _previous, ...rest } = account;
  const summary = summarizeInvoices(invoices);
  const next: Account = {
    ...rest,
    balances: summary.balances,
    ...(summary.oldestDueDate !== undefined ? { oldestDueDate: summary.oldestDueDate } : {}),
    openInvoiceCount: summary.openInvoiceCount,
    updatedAt: at,
  };
  if (next.cycle?.status === 'stopped' && !owesMoney(next)) {
    next.cycle = { ...next.cycle, status: 'cured', curedAt: at };
  }
  return next;
};

/** True when the debtor owes something in some currency. */
export const owesMoney = (account: Pick<Account, 'balances'>): boolean =>
  Object.values(account.balances).some((amount) => amount > 0);
