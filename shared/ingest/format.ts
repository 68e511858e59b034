import * as z from '../zod';

/**
 * Our names for the fields of an invoice row. A tenant's export uses its own header names;
 * `columns` maps ours onto theirs.
 */
export const INVOICE_FIELDS = [
  'customerId',
  'customerName',
  'email',
  'phone',
  'country',
  'timeZone',
  'invoiceId',
  'type',
  'status',
  'currency',
  'amount',
  'issueDate',
  'dueDate',
  'reference',
] as const;
// Built on first use, like the domain's schemas: tenant.ts brings this file into every bundle.
export const InvoiceField = z.onFirstUse(() => z.enum(INVOICE_FIELDS));
export type InvoiceField = z.infer<typeof InvoiceField>;

/** How one tenant's invoice files look. */
export const InvoiceFormat = z.onFirstUse(() =>
  z.object({
    format: z._default(z.enum(['csv', 'jsonl']), 'csv'),
    /** Absent: detected from the header line (comma or semicolon). */
    delimiter: z.optional(z.enum([',', ';', '\t'])),
    decimalSeparator: z._default(z.enum(['.', ',']), '.'),
    /** How dates are written. Day and month may have one digit in the non-ISO forms (1.2.2026). */
    dateFormat: z._default(z.enum(['YYYY-MM-DD', 'DD.MM.YYYY', 'DD/MM/YYYY', 'MM/DD/YYYY']), 'YYYY-MM-DD'),
    /**
     * Country (ISO 3166 alpha-2) used to read phone numbers written in national form ("030 1234567")
     * on rows that name no country. Rows with a country use their own.
     */
    defaultCountry: z.optional(
      z.string().check(z.regex(/^[A-Z]{2}$/, 'must be an ISO 3166 alpha-2 code such as DE')),
    ),
    /** `auto`: UTF-8 (with or without BOM) unless the bytes cannot be UTF-8 anywhere, then Windows-1252. */
    encoding: z._default(z.enum(['auto', 'utf-8', 'windows-1252']), 'auto'),
    /** Our field name -> the tenant's header name. Fields not listed use our name as the header. */
    columns: z._default(z.partialRecord(InvoiceField, z.string().check(z.minLength(1))), {}),
    /** Files larger than this are rejected whole. */
    maxFileBytes: z._default(z.number().check(z.int(), z.positive()), 512 * 1024 * 1024),
  }),
);
export type InvoiceFormat = z.infer<typeof InvoiceFormat>;
