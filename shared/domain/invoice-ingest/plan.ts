import type { InvoiceRow } from '../../ingest/invoice-row';
import type { Account, Contact, Invoice } from '../account/account';
import { withDerivedBalances } from '../account/balances';
import type { AuditDraft } from '../audit/audit';
import { GENESIS_HASH } from '../audit/audit';
import { rowDigest } from './row-digest';

export type { InvoiceRow };

export type RowOutcome =
  | { line: number; invoiceId: string; outcome: 'created' | 'updated' | 'cancelled' | 'unchanged' }
  | { line: number; invoiceId: string; outcome: 'rejected'; field: string; reason: string };

export interface AccountIngestPlan {
  /** The account's new state and what changes with it; null when the rows change nothing. */
  change: { after: Account; invoices: Invoice[]; audit: AuditDraft[] } | null;
  outcomes: RowOutcome[];
}

/**
 * Most invoice rows one transaction can carry: DynamoDB allows 100 actions, one is the account
 * and one its audit entry.
 */
export const MAX_ROWS_PER_CHANGE = 98;

const ACTOR = { kind: 'system', id: 'ingest-invoices' } as const;

const invoiceFacts = (invoice: Invoice) => ({
  kind: invoice.kind,
  currency: invoice.currency,
  amount: invoice.amount,
  openAmount: invoice.openAmount,
  issueDate: invoice.issueDate,
  dueDate: invoice.dueDate,
  status: invoice.status,
});

const sameContact = (a: Contact, b: Contact): boolean =>
  a.name === b.name &&
  a.email === b.email &&
  a.phone === b.phone &&
  a.country === b.country &&
  a.timeZone === b.timeZone &&
  a.locale === b.locale;

/**
 * Plans how one account takes in rows of one file (at most {@link MAX_ROWS_PER_CHANGE}).
 *
 * 1. A new invoice id creates the invoice; the same row again (same digest, see `rowDigest`)
 *    changes nothing.
 * 2. A known invoice with other content is updated, keeping what was already paid: the open
 *    amount is the new amount less the paid part, never below zero. `cancelled` closes it.
 *    Changing the currency of an invoice that was partly paid is refused: the paid part would
 *    change its meaning.
 * 3. Contact data follows the latest row. Balances and the oldest due date are derived again
 *    from all of the account's invoices, so they can never drift from them.
 * Pure: the caller reads the account and its invoices and commits the change.
 */
export const planAccountIngest = (input: {
  tenantId: string;
  accountId: string;
  existing: { account: Account; invoices: Invoice[] } | undefined;
  rows: readonly InvoiceRow[];
  sourceFile: string;
  now: Date;
}): AccountIngestPlan => {
  const { existing, rows, now } = input;
  if (rows.length > MAX_ROWS_PER_CHANGE)
    throw new RangeError(`at most ${MAX_ROWS_PER_CHANGE} rows per change`);
  const at = now.toISOString();
  const invoices = new Map((existing?.invoices ?? []).map((invoice) => [invoice.invoiceId, invoice]));
  const changed: Invoice[] = [];
  const outcomes: RowOutcome[] = [];
  const created: string[] = [];
  const updated: { invoiceId: string; line: number; before: object; after: object }[] = [];

  for (const row of rows) {
    const previous = invoices.get(row.invoiceId);
    const digest = rowDigest(row);
    if (previous && previous.digest === digest) {
      outcomes.push({ line: row.line, invoiceId: row.invoiceId, outcome: 'unchanged' });
      continue;
    }
    const paid = previous ? previous.amount - previous.openAmount : 0;
    if (previous && paid > 0 && previous.currency !== row.currency) {
      outcomes.push({
        line: row.line,
        invoiceId: row.invoiceId,
        outcome: 'rejected',
        field: 'currency',
        reason: `invoice ${row.invoiceId} is partly paid in ${previous.currency}; its currency cannot change to ${row.currency}`,
      });
      continue;
    }
    const cancelled = row.status === 'cancelled';
    const openAmount = cancelled
      ? 0
      : Math.max(0, row.amount - (previous?.status === 'cancelled' ? 0 : paid));
    const next: Invoice = {
      tenantId: input.tenantId,
      accountId: input.accountId,
      invoiceId: row.invoiceId,
      kind: row.kind,
      currency: row.currency,
      amount: row.amount,
      openAmount,
      issueDate: row.issueDate,
      dueDate: row.dueDate,
      status: cancelled ? 'cancelled' : openAmount === 0 && previous ? 'paid' : 'open',
      ...(row.reference ? { reference: row.reference } : {}),
      source: { file: input.sourceFile, line: row.line },
      digest,
      updatedAt: at,
    };
    invoices.set(row.invoiceId, next);
    changed.push(next);
    if (previous) {
      updated.push({
        invoiceId: row.invoiceId,
        line: row.line,
        before: invoiceFacts(previous),
        after: invoiceFacts(next),
      });
      outcomes.push({
        line: row.line,
        invoiceId: row.invoiceId,
        outcome: cancelled ? 'cancelled' : 'updated',
      });
    } else {
      created.push(row.invoiceId);
      outcomes.push({ line: row.line, invoiceId: row.invoiceId, outcome: 'created' });
    }
  }

  const latest = rows.at(-1);
  const contactChanged =
    latest !== undefined && (!existing || !sameContact(existing.account.contact, latest.contact));
  if (changed.length === 0 && !contactChanged) return { change: null, outcomes };

  const base: Account = existing?.account ?? {
    tenantId: input.tenantId,
    accountId: input.accountId,
    contact: latest!.contact,
    flags: { disputed: false, ceaseContact: false, emailOptOut: false },
    balances: {},
    openInvoiceCount: 0,
    version: 0,
    auditSeq: 0,
    auditHead: GENESIS_HASH,
    createdAt: at,
    updatedAt: at,
  };
  const after = withDerivedBalances(
    { ...base, contact: latest?.contact ?? base.contact },
    [...invoices.values()],
    at,
  );
  const lines = rows.map((row) => row.line);
  const parts = [
    created.length > 0 ? `${created.length} created` : '',
    updated.length > 0 ? `${updated.length} updated` : '',
    contactChanged && existing ? 'contact data updated' : '',
    existing ? '' : 'account opened',
  ].filter(Boolean);
  const audit: AuditDraft = {
    action: 'invoices.ingested',
    actor: ACTOR,
    at,
    reason: `${input.sourceFile} lines ${Math.min(...lines)}-${Math.max(...lines)}: ${parts.join(', ')}`,
    data: {
      file: input.sourceFile,
      created,
      updated,
      balances: after.balances,
      ...(existing ? { balancesBefore: existing.account.balances } : {}),
    },
  };
  return { change: { after, invoices: changed, audit: [audit] }, outcomes };
};
