import type { RowReject } from './invoice-row';
import { spreadsheetCsvField } from './spreadsheet';

export const QUARANTINE_COLUMNS = ['line', 'field', 'value', 'reason'] as const;

export interface QuarantineCsvOptions {
  /** `,` (default) or `;` for tenants whose spreadsheets expect it (German, French Excel). */
  delimiter?: ',' | ';';
}

/** A BOM, so spreadsheets open the file as UTF-8 and names keep their accents. */
const BOM = '\uFEFF';

const line = (fields: readonly string[], delimiter: string): string =>
  `${fields.map((field) => spreadsheetCsvField(field, delimiter)).join(delimiter)}\r\n`;

/** The header line of a quarantine file (with the BOM). */
export const quarantineHeader = (options: QuarantineCsvOptions = {}): string =>
  BOM + line(QUARANTINE_COLUMNS, options.delimiter ?? ',');

/** One reject as a quarantine line: every value neutralised against formula injection and quoted as needed. */
export const quarantineLine = (reject: RowReject, options: QuarantineCsvOptions = {}): string =>
  line([String(reject.line), reject.field, reject.value, reject.reason], options.delimiter ?? ',');

/** A whole quarantine file in memory, for a bounded list of rejects. */
export const renderQuarantineCsv = (
  rejects: Iterable<RowReject>,
  options: QuarantineCsvOptions = {},
): string => {
  let text = quarantineHeader(options);
  for (const reject of rejects) text += quarantineLine(reject, options);
  return text;
};

export interface QuarantineWriter {
  /** Pass as `onReject` to `parseInvoiceFile`. */
  onReject(reject: RowReject): void;
  /** Reject lines written so far (0: nothing was written, not even the header). */
  readonly count: number;
}

/**
 * Streams a quarantine file through `write` as rejects come, so a file with a million bad rows
 * never needs them all in memory (`write` may append to a temporary file or a multipart upload).
 * The header is written with the first reject: a file without rejects gets no quarantine.
 */
export const createQuarantineWriter = (
  write: (text: string) => void,
  options: QuarantineCsvOptions = {},
): QuarantineWriter => {
  let count = 0;
  return {
    onReject(reject) {
      if (count === 0) write(quarantineHeader(options));
      count++;
      write(quarantineLine(reject, options));
    },
    get count() {
      return count;
    },
  };
};
