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

/** True when the debtor owes something in some currency. */
export const owesMoney = (account: Pick<Account, 'balances'>): boolean =>
  Object.values(account.balances).some((amount) => amount > 0);
