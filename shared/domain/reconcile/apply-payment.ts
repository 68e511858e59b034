import type { Invoice, Payment } from '../account';
import { displayAmount, subtractMinor } from '../money';
import type { Allocation } from './payment-record';

export type ApplicationOutcome = 'applied' | 'overpaid' | 'unmatched' | 'currency_mismatch';

export interface PaymentApplication {
  outcome: ApplicationOutcome;
  /** Only the invoices that changed, as they are after the payment. */
  updatedInvoices: Invoice[];
  allocations: Allocation[];
  /** Minor units of the payment not allocated to any invoice. */
  unapplied: number;
  /** Why, in words a collections officer understands. */
  reason: string;
}

/** References are printed in groups ("RF18 5390 0754") and typed in any case. */
export const normaliseReference = (text: string): string => text.replace(/\s+/g, '').toUpperCase();

const nothingApplied = (
  payment: Payment,
  outcome: 'unmatched' | 'currency_mismatch',
  reason: string,
): PaymentApplication => ({
  outcome,
  updatedInvoices: [],
  allocations: [],
  unapplied: payment.amount,
  reason,
});

const accountOf = (payment: Payment) => payment.accountId ?? '(none)';

/** The invoice the payment names, by the invoice id it carries or else by its reference. */
const findTarget = (invoices: readonly Invoice[], payment: Payment): Invoice | string => {
  const payable = invoices.filter((invoice) => invoice.kind === 'invoice');
  if (payment.invoiceId) {
    const named = payable.find((invoice) => invoice.invoiceId === payment.invoiceId);
    if (named && (named.status !== 'open' || named.openAmount === 0)) {
      return `invoice ${named.invoiceId} of account ${accountOf(payment)} is ${named.status === 'open' ? 'settled' : named.status}`;
    }
    if (named) return named;
    if (!payment.reference) return `no invoice ${payment.invoiceId} for account ${accountOf(payment)}`;
  }
  if (!payment.reference) return `payment ${payment.paymentId} names neither an invoice nor a reference`;
  const wanted = normaliseReference(payment.reference);
  const candidates = payable.filter(
    (invoice) =>
      invoice.status === 'open' &&
      invoice.openAmount > 0 &&
      (normaliseReference(invoice.invoiceId) === wanted ||
        (invoice.reference !== undefined && normaliseReference(invoice.reference) === wanted)),
  );
  const [only, ...others] = candidates;
  if (!only) return `no open invoice with reference ${payment.reference} for account ${accountOf(payment)}`;
  if (others.length > 0) {
    return `reference ${payment.reference} matches ${candidates.length} open invoices of account ${accountOf(payment)}`;
  }
  return only;
};

/**
 * Applies one payment to one account's invoices (pure; a later matcher deepens this).
 *
 * 1. Find the invoice the payment names: its `invoiceId` (gateway metadata), else an open
 *    invoice whose id or printed reference equals the payment's reference.
 * 2. Refuse a currency other than the invoice's: money in different currencies never offsets.
 * 3. Reduce the invoice's open amount by as much of the payment as it takes (a partial payment
 *    leaves it open; at zero it is paid). What is left over is `unapplied`.
 * Nothing found, or a mismatch, applies nothing and says why, for the review queue.
 */
export const applyPayment = (
  invoices: readonly Invoice[],
  payment: Payment,
  at: string,
): PaymentApplication => {
  if (payment.amount <= 0) {
    return nothingApplied(payment, 'unmatched', `payment ${payment.paymentId} has no positive amount`);
  }
  const target = findTarget(invoices, payment);
  if (typeof target === 'string') return nothingApplied(payment, 'unmatched', target);
  if (target.currency !== payment.currency) {
    return nothingApplied(
      payment,
      'currency_mismatch',
      `payment of ${displayAmount(payment.amount, payment.currency)} is in ${payment.currency}, but invoice ${target.invoiceId} is in ${target.currency}`,
    );
  }

  const applied = Math.min(target.openAmount, payment.amount);
  const openAmount = subtractMinor(target.openAmount, applied);
  const unapplied = subtractMinor(payment.amount, applied);
  const updated: Invoice = {
    ...target,
    openAmount,
    status: openAmount === 0 ? 'paid' : 'open',
    updatedAt: at,
  };
  const paid = displayAmount(applied, payment.currency);
  const reason =
    unapplied > 0
      ? `${paid} paid invoice ${target.invoiceId} in full; ${displayAmount(unapplied, payment.currency)} overpaid and left unapplied`
      : openAmount === 0
        ? `${paid} paid invoice ${target.invoiceId} in full`
        : `${paid} paid invoice ${target.invoiceId} in part; ${displayAmount(openAmount, payment.currency)} still open`;
  return {
    outcome: unapplied > 0 ? 'overpaid' : 'applied',
    updatedInvoices: [updated],
    allocations: [{ invoiceId: target.invoiceId, amount: applied }],
    unapplied,
    reason,
  };
};
