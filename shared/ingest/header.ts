import { INVOICE_FIELDS, type InvoiceField, type InvoiceFormat } from './format';

/** Fields every row needs: a file whose header lacks one of them cannot be read at all. */
export const REQUIRED_FIELDS: readonly InvoiceField[] = [
  'customerId',
  'customerName',
  'invoiceId',
  'currency',
  'amount',
  'issueDate',
  'dueDate',
];

/** Our fields in a fixed order; rows are read by position in this list. */
export const FIELDS: readonly InvoiceField[] = INVOICE_FIELDS;

/** Where each field sits in a record (-1: the file has no such column), and what the file calls it. */
export interface ColumnPlan {
  /** Column index per field, in {@link FIELDS} order. */
  index: readonly number[];
  /** The column name as the file writes it, per field, for messages a person recognises. */
  names: Readonly<Record<InvoiceField, string>>;
  /** How many columns a record must have (CSV); 0 when records are keyed (JSON Lines). */
  columns: number;
  /** Columns of the file that map to no field: ignored, and listed in the summary. */
  ignored: readonly string[];
}

export type HeaderVerdict =
  | { ok: true; plan: ColumnPlan }
  | { ok: false; code: 'no-header' | 'missing-columns' | 'duplicate-columns'; reason: string };

/** Header names match case-insensitively, ignoring surrounding spaces (and a stray BOM). */
export const headerKey = (name: string): string =>
  name
    .replace(/^\uFEFF/, '')
    .trim()
    .toLowerCase();

/** The header name the tenant uses for each field: its mapping, or our field name. */
export const expectedNames = (columns: InvoiceFormat['columns']): Record<InvoiceField, string> =>
  Object.fromEntries(FIELDS.map((field) => [field, columns[field] ?? field])) as Record<InvoiceField, string>;

const quoteList = (names: readonly string[]): string => names.map((name) => `"${name}"`).join(', ');

/**
 * Maps a CSV header line onto our fields.
 * 1. Each column name is compared (trimmed, case-insensitive) with the tenant's name for each field.
 * 2. None of the required fields found: the first line is not a header at all (`no-header`).
 * 3. Some required fields missing: every row would fail, so the file is refused (`missing-columns`).
 * 4. Two columns for one field: which one to believe is a guess, so the file is refused.
 */
export const resolveHeader = (
  header: readonly string[],
  columns: InvoiceFormat['columns'],
): HeaderVerdict => {
  const expected = expectedNames(columns);
  const byKey = new Map<string, InvoiceField>();
  for (const field of FIELDS) byKey.set(headerKey(expected[field]), field);
  const index = FIELDS.map(() => -1);
  const names = { ...expected };
  const ignored: string[] = [];
  for (let column = 0; column < header.length; column++) {
    const name = header[column]!;
    const field = byKey.get(headerKey(name));
    if (field === undefined) {
      if (name.trim() !== '') ignored.push(name);
      continue;
    }
    const position = FIELDS.indexOf(field);
    if (index[position]! >= 0) {
      return {
        ok: false,
        code: 'duplicate-columns',
        reason: `columns ${index[position]! + 1} and ${column + 1} are both "${expected[field]}"; keep one`,
      };
    }
    index[position] = column;
    names[field] = name.trim();
  }
  const missing = REQUIRED_FIELDS.filter((field) => index[FIELDS.indexOf(field)]! < 0);
  if (missing.length === REQUIRED_FIELDS.length) {
    const first = header.join(',').slice(0, 200);
    return {
      ok: false,
      code: 'no-header',
      reason: `no recognisable header: the first line must name the columns ${quoteList(
        missing.map((field) => expected[field]),
      )}; it reads "${first}"`,
    };
  }
  if (missing.length > 0) {
    return {
      ok: false,
      code: 'missing-columns',
      reason: `the header lacks the required column(s) ${quoteList(missing.map((field) => expected[field]))}`,
    };
  }
  return { ok: true, plan: { index, names, columns: header.length, ignored } };
};

/**
 * The delimiter a header line uses: whichever of `,`, `;` and tab occurs most outside quotes
 * (comma on a tie, or when there is none: such a line is not a header anyway).
 */
export const detectDelimiter = (line: string): ',' | ';' | '\t' => {
  let comma = 0;
  let semicolon = 0;
  let tab = 0;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i];
    if (char === '"') quoted = !quoted;
    else if (quoted) continue;
    else if (char === ',') comma++;
    else if (char === ';') semicolon++;
    else if (char === '\t') tab++;
  }
  if (semicolon > comma && semicolon >= tab) return ';';
  if (tab > comma && tab > semicolon) return '\t';
  return ',';
};
