import { TenantId } from '../domain/ids';
import { addMinor, MinorUnits } from '../domain/money';
import * as z from '../zod';
import { type InvoiceRow, type RowReject, RowReject as RowRejectSchema } from './invoice-row';
import type { IngestSummary } from './parse-invoice-file';

/** A reject as the receipt shows it: where and why, without the value (that is in the quarantine file). */
export const ReceiptReject = z.onFirstUse(() =>
  z.pick(RowRejectSchema, { line: true, field: true, reason: true }),
);
export type ReceiptReject = z.infer<typeof ReceiptReject>;

/**
 * What a finance team gets back for every file: what was read, applied and rejected, and why.
 * `rowsRead = applied + rejected` always.
 */
export const Receipt = z.onFirstUse(() =>
  z.object({
    tenantId: TenantId,
    fileName: z.string(),
    /** sha256 (hex) of the file's bytes; null when the file was refused before it was read to the end. */
    checksum: z.nullable(z.string()),
    bytes: z.number().check(z.int(), z.minimum(0)),
    format: z.enum(['csv', 'jsonl']),
    encoding: z.nullable(z.enum(['utf-8', 'windows-1252'])),
    delimiter: z.nullable(z.string()),
    rowsRead: z.number().check(z.int(), z.minimum(0)),
    applied: z.number().check(z.int(), z.minimum(0)),
    rejected: z.number().check(z.int(), z.minimum(0)),
    /** True when the same file (same checksum) was ingested before: nothing changed this time. */
    duplicateFile: z.boolean(),
    /** Net amount per currency of the applied rows, minor units (credit notes subtract). */
    totals: z.record(z.string(), MinorUnits),
    rejects: z.array(ReceiptReject),
    /** Reject entries left out of `rejects` (the quarantine file lists them all). */
    rejectsOmitted: z.number().check(z.int(), z.minimum(0)),
    duplicateDebtors: z.array(
      z.object({
        customerIds: z.tuple([z.string(), z.string()]),
        via: z.enum(['email', 'phone']),
        lines: z.tuple([z.number().check(z.int()), z.number().check(z.int())]),
      }),
    ),
    /** Why the file was refused as a whole, when it was. */
    fileRejection: z.optional(z.object({ code: z.string(), reason: z.string() })),
    /** Key of the quarantine file, when rows were rejected. */
    quarantine: z.optional(z.string()),
  }),
);
export type Receipt = z.infer<typeof Receipt>;

/** What the store made of the valid rows. */
export interface StoreOutcome {
  /** Rows the store now holds as this file says: created, updated, or already identical. */
  applied: number;
  /** Rows the store refused (a conflict with what it holds); they count as rejected. */
  rejects?: readonly RowReject[];
  /** Net totals of the applied rows. Needed when the store refused rows; else the parse's totals are right. */
  totals?: Record<string, number>;
  duplicateFile?: boolean;
}

export class ReceiptInvariantError extends Error {
  override readonly name = 'ReceiptInvariantError';
}

/** Net totals per currency of rows (invoices add, credit notes subtract), minor units. */
export const totalsOf = (
  rows: Iterable<Pick<InvoiceRow, 'kind' | 'amount' | 'currency'>>,
): Record<string, number> => {
  const totals: Record<string, number> = {};
  for (const row of rows) {
    totals[row.currency] = addMinor(
      totals[row.currency] ?? 0,
      row.kind === 'credit_note' ? -row.amount : row.amount,
    );
  }
  return totals;
};

/**
 * Builds a file's receipt from the parse summary and the store's outcome.
 * @throws ReceiptInvariantError when rowsRead ≠ applied + rejected (a row would be lost without
 *   a word), or when the store refused rows and gave no totals for what it applied.
 */
export const buildReceipt = (input: {
  tenantId: string;
  summary: IngestSummary;
  outcome: StoreOutcome;
  quarantineKey?: string;
  /** Most rejects listed in the receipt (default 1,000). */
  maxRejects?: number;
}): Receipt => {
  const { summary, outcome } = input;
  const storeRejects = outcome.rejects ?? [];
  const storeRejectedRows = new Set(storeRejects.map((reject) => reject.line)).size;
  const rejected = summary.rejected + storeRejectedRows;
  if (summary.rowsRead !== outcome.applied + rejected) {
    throw new ReceiptInvariantError(
      `${summary.fileName}: ${summary.rowsRead} rows read, but ${outcome.applied} applied + ${rejected} rejected`,
    );
  }
  if (storeRejects.length > 0 && outcome.totals === undefined) {
    throw new ReceiptInvariantError('the store refused rows: pass the totals of the rows it applied');
  }
  const maxRejects = input.maxRejects ?? 1000;
  const all = [...summary.rejects, ...storeRejects].sort((a, b) => a.line - b.line);
  const rejects = all.slice(0, maxRejects).map(({ line, field, reason }) => ({ line, field, reason }));
  return Receipt.parse({
    tenantId: input.tenantId,
    fileName: summary.fileName,
    checksum: summary.checksum,
    bytes: summary.bytes,
    format: summary.format,
    encoding: summary.encoding,
    delimiter: summary.delimiter,
    rowsRead: summary.rowsRead,
    applied: outcome.applied,
    rejected,
    duplicateFile: outcome.duplicateFile ?? false,
    totals: outcome.totals ?? summary.totals,
    rejects,
    rejectsOmitted: summary.rejectsOmitted + (all.length - rejects.length),
    duplicateDebtors: summary.duplicateDebtors,
    ...(summary.fileRejection ? { fileRejection: summary.fileRejection } : {}),
    ...(input.quarantineKey ? { quarantine: input.quarantineKey } : {}),
  });
};
