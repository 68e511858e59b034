import { spreadsheetCsvField } from '../../ingest/spreadsheet';

/**
 * CSV writing for reports that people open in spreadsheets: RFC 4180 quoting, and LF line ends
 * so Athena's text SerDe sees no stray carriage return in the last column.
 */

/**
 * A cell of free text (ids, statuses, names from config): neutralised so a spreadsheet never
 * runs it as a formula, then quoted as needed. Amounts we format ourselves are written as they
 * are, where a minus sign is a minus sign.
 */
export const csvText = (value: string | undefined): string => spreadsheetCsvField(value ?? '');

/** Header and rows as CSV text, one LF-terminated line each. */
export const toCsv = (header: readonly string[], rows: readonly (readonly string[])[]): string =>
  [header, ...rows].map((cells) => `${cells.join(',')}\n`).join('');
