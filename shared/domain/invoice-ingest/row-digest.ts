import { hash } from 'node:crypto';
import type { InvoiceRow } from '../../ingest/invoice-row';

/** What of an invoice row its digest covers: the invoice's content, not where the row stands. */
export type DigestedRow = Pick<
  InvoiceRow,
  | 'customerId'
  | 'invoiceId'
  | 'kind'
  | 'status'
  | 'currency'
  | 'amount'
  | 'issueDate'
  | 'dueDate'
  | 'reference'
>;

/** The canonical text of what an invoice row says, which its digest hashes. */
export const canonicalRow = (row: DigestedRow): string =>
  // U+001F cannot occur in any of these values: ids and references refuse control characters.
  `invoice-row/v1\u001f${row.customerId}\u001f${row.invoiceId}\u001f${row.kind}\u001f${row.status}\u001f${
    row.currency
  }\u001f${row.amount}\u001f${row.issueDate}\u001f${row.dueDate}\u001f${row.reference ?? ''}`;

/**
 * Digest of what an invoice row says (not where it stands in which file), versioned so a change
 * of normalisation shows as a change of digest. The contact is not part of it: contact data
 * belongs to the account, and a changed phone number does not change the invoice. Computed when
 * a row is planned against the stored invoice (a few per transaction), not while the file is
 * parsed (a million per file), where it was the most expensive single step.
 */
export const rowDigest = (row: DigestedRow): string => hash('sha256', canonicalRow(row));
