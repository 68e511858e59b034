import { Contact } from '../domain/account/account';
import { ExternalId, IsoDate } from '../domain/ids';
import { CurrencyCode, MinorUnits } from '../domain/money';
import * as z from '../zod';

/**
 * One valid invoice row as the parser hands it over: normalised (trimmed, canonical codes, E.164
 * phone, ISO dates) with the amount in minor units. `amount` is positive for invoices and credit
 * notes alike; `kind` gives the sign, as in the domain's `Invoice`.
 */
export const InvoiceRow = z.onFirstUse(() =>
  z.object({
    /** Physical line of the file where the row starts (1 is the header line of a CSV file). */
    line: z.number().check(z.int(), z.minimum(1)),
    customerId: ExternalId,
    contact: Contact,
    invoiceId: ExternalId,
    kind: z.enum(['invoice', 'credit_note']),
    status: z.enum(['open', 'cancelled']),
    currency: CurrencyCode,
    amount: MinorUnits.check(z.refine((amount) => amount > 0, 'must be positive')),
    issueDate: IsoDate,
    dueDate: IsoDate,
    reference: z.optional(z.string().check(z.minLength(1))),
    /** True when `reference` is an ISO 11649 creditor reference with correct check digits. */
    referenceStructured: z.boolean(),
  }),
);
export type InvoiceRow = z.infer<typeof InvoiceRow>;

/** Why one row (or one field of it) was not taken. */
export const RowReject = z.onFirstUse(() =>
  z.object({
    line: z.number().check(z.int(), z.minimum(1)),
    /** The column as the file names it; `row` when the row as a whole is unreadable. */
    field: z.string(),
    /** What the file holds there (shortened to 200 characters). */
    value: z.string(),
    reason: z.string(),
  }),
);
export type RowReject = z.infer<typeof RowReject>;

/** `field` of a reject that concerns the whole row (unreadable, wrong column count, duplicate). */
export const WHOLE_ROW = 'row';
