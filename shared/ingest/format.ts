import { z } from 'zod';

/**
 * Our names for the fields of an invoice row. A tenant's export uses its own header names;
 * `columns` maps ours onto theirs.
 */
export const InvoiceField = z.enum([
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
]);
export type InvoiceField = z.infer<typeof InvoiceField>;

/** How one tenant's invoice files look. */
export const InvoiceFormat = z.object({
  format: z.enum(['csv', 'jsonl']).default('csv'),
  /** Absent: detected from the header line (comma or semicolon). */
  delimiter: z.enum([',', ';', '\t']).optional(),
  decimalSeparator: z.enum(['.', ',']).default('.'),
  /** How dates are written. Day and month may have one digit in the non-ISO forms (1.2.2026). */
  dateFormat: z.enum(['YYYY-MM-DD', 'DD.MM.YYYY', 'DD/MM/YYYY', 'MM/DD/YYYY']).default('YYYY-MM-DD'),
  /**
   * Country (ISO 3166 alpha-2) used to read phone numbers written in national form ("030 1234567")
   * on rows that name no country. Rows with a country use their own.
   */
  defaultCountry: z
    .string()
    .regex(/^[A-Z]{2}$/, 'must be an ISO 3166 alpha-2 code such as DE')
    .optional(),
  /** `auto`: UTF-8 (with or without BOM) unless the bytes cannot be UTF-8 anywhere, then Windows-1252. */
  encoding: z.enum(['auto', 'utf-8', 'windows-1252']).default('auto'),
  /** Our field name -> the tenant's header name. Fields not listed use our name as the header. */
  columns: z.partialRecord(InvoiceField, z.string().min(1)).default({}),
  /** Files larger than this are rejected whole. */
  maxFileBytes: z
    .number()
    .int()
    .positive()
    .default(512 * 1024 * 1024),
});
export type InvoiceFormat = z.infer<typeof InvoiceFormat>;
