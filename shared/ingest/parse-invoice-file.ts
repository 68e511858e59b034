import { createHash } from 'node:crypto';
import type { Contact } from '../domain/account/account';
import { addMinor } from '../domain/money';
import { type Digester, inlineDigester, workerDigester } from './digest-worker';
import { InvoiceFormat } from './format';
import { type ColumnPlan, FIELDS } from './header';
import { type InvoiceRow, type RowReject, WHOLE_ROW } from './invoice-row';
import {
  CsvRecordSource,
  type FileRejectionCode,
  isBlank,
  JsonLinesRecordSource,
  type RecordSink,
  type RecordSource,
} from './record-sources';
import { canonicalRow, detach, type FieldProblem, InvoiceRowRules } from './row-rules';
import { StringTable } from './string-table';
import { InvoiceTextDecoder, sniffFile, type TextEncoding } from './text-decoding';

export interface InvoiceFileInput {
  /** The file's bytes, e.g. the S3 object's body (a Node Readable is an AsyncIterable). */
  body: AsyncIterable<Uint8Array | string>;
  /** Size the storage reports (S3 ContentLength); checked against the limit before reading. */
  size?: number;
  fileName: string;
  /** The tenant's format; parsed with its schema, so defaults apply to a partial object. */
  format: InvoiceFormat | Partial<InvoiceFormat>;
}

export interface ParseInvoiceFileOptions {
  /** Valid rows per batch (default 500). */
  batchRows?: number;
  /**
   * Called for every reject, in file order, including those beyond `maxRejectsKept`: feed the
   * quarantine file from here (see `createQuarantineWriter`).
   */
  onReject?: (reject: RowReject) => void;
  /** Rejects kept in the summary (default 10,000); the rest are counted in `rejectsOmitted`. */
  maxRejectsKept?: number;
  /** Possible duplicate debtors kept in the summary (default 1,000). */
  maxDuplicateDebtorsKept?: number;
  /** Longest row accepted, in characters (default 64 KiB). */
  maxRecordChars?: number;
  /**
   * Where row digests are computed: `inline` (default), `worker` (a worker thread, so the main
   * thread reads on while another core hashes; worth it with two or more vCPUs), or a Digester.
   */
  digests?: 'worker' | 'inline' | Digester;
  /**
   * After a whole-file rejection, read the rest of the body anyway so `checksum` covers the whole
   * file (default true). Never done for a file over the size limit.
   */
  drainOnReject?: boolean;
}

/** One customer's rows in a batch, with the contact data of its latest row in the batch. */
export interface AccountRows {
  customerId: string;
  contact: Contact;
  rows: InvoiceRow[];
}

/**
 * Valid rows, grouped per customer. Apply batches in the order they come: a customer's rows may
 * be spread over several batches, and the contact of its latest row comes last.
 */
export interface InvoiceBatch {
  kind: 'batch';
  /** 0, 1, 2… */
  index: number;
  rowCount: number;
  accounts: AccountRows[];
}

/** Two customer ids whose contact data look like one person: for a person to review, never merged. */
export interface DuplicateDebtor {
  customerIds: [string, string];
  via: 'email' | 'phone';
  /** The lines where each customer id first showed the shared e-mail or phone. */
  lines: [number, number];
}

export interface FileRejection {
  code: FileRejectionCode;
  reason: string;
}

/**
 * The file's verdict, always the last event. `rowsRead = valid + rejected` always holds: rows
 * are the non-blank records after the header (CSV) or non-blank lines (JSON Lines).
 */
export interface IngestSummary {
  kind: 'summary';
  fileName: string;
  format: 'csv' | 'jsonl';
  /** Bytes read (the whole file unless it was rejected as too large). */
  bytes: number;
  /** sha256 (hex) of the raw bytes; null when the file was not read to its end. */
  checksum: string | null;
  encoding: TextEncoding | null;
  delimiter: string | null;
  rowsRead: number;
  valid: number;
  /** Rows rejected (a row with two bad fields counts once, with two entries in `rejects`). */
  rejected: number;
  rejects: RowReject[];
  /** Reject entries not kept in `rejects` (they all went to `onReject`). */
  rejectsOmitted: number;
  /** Net amount per currency of the valid rows, minor units: invoices add, credit notes subtract. */
  totals: Record<string, number>;
  duplicateDebtors: DuplicateDebtor[];
  duplicateDebtorsOmitted: number;
  /** Columns of the file that map to no field (CSV). */
  ignoredColumns: string[];
  /**
   * Set when the file was rejected whole: then no batch came and the counts are 0. (Only a
   * stream longer than the limit or its announced size can be refused after batches came, when
   * `size` was missing or untrue; the counts are then those read so far, and the caller must
   * treat the file as failed.)
   */
  fileRejection?: FileRejection;
}

export type IngestEvent = InvoiceBatch | IngestSummary;

/** Batches waiting for their digests before reading pauses. */
const MAX_IN_FLIGHT = 4;

/** Bytes looked at for signs of a binary file before decoding starts. */
const SNIFF_BYTES = 8 * 1024;
const MAX_VALUE = 200;

const toBuffer = (chunk: Uint8Array | string): Buffer =>
  typeof chunk === 'string'
    ? Buffer.from(chunk, 'utf8')
    : Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);

/** A value as kept in a reject: at most 200 characters, copied so it holds no big string alive. */
const clip = (value: string): string =>
  detach(value.length > MAX_VALUE ? `${value.slice(0, MAX_VALUE)}…` : value);

/**
 * Everything the parse of one file keeps between chunks: counters, the invoice ids seen (for
 * duplicates inside the file), contact keys (for possible duplicate debtors) and the batch being
 * filled. Memory: the id table holds every valid invoice id (about 60 bytes for a 13-character
 * id with the table's spare room: 60 MB for 1,000,000 rows); the contact tables one entry per
 * distinct e-mail and phone (about 150 bytes each); the row rules keep the last contact of up to
 * 100,000 customers (about 35 MB); the rest is bounded by the batch and chunk sizes.
 */
class FileParse implements RecordSink {
  rowsRead = 0;
  valid = 0;
  rejected = 0;
  rejects: RowReject[] = [];
  rejectsOmitted = 0;
  fileRejection: FileRejection | undefined;
  ignoredColumns: string[] = [];
  /** Batches complete but for their rows' digests. */
  readonly ready: { batch: InvoiceBatch; rows: InvoiceRow[] }[] = [];
  /** Set once decoded text held U+FFFD: from then on rows are checked for it. */
  replacementSeen = false;
  invalidUtf8 = false;
  private rules: InvoiceRowRules | undefined;
  private plan: ColumnPlan | undefined;
  private readonly problems: FieldProblem[] = [];
  private readonly invoiceLines = new StringTable(4096);
  /** Normalised e-mail / phone -> the first customer that used it (keys detached from the chunk). */
  private readonly emails = new Map<string, ContactOwner>();
  private readonly phones = new Map<string, ContactOwner>();
  private readonly flagged = new Set<string>();
  readonly duplicateDebtors: DuplicateDebtor[] = [];
  duplicateDebtorsOmitted = 0;
  private readonly totals = new Map<string, number>();
  private batch: InvoiceRow[] = [];
  private batches = 0;
  /** True once a batch was handed to the consumer. */
  handedOn = false;

  constructor(
    private readonly format: InvoiceFormat,
    private readonly options: Required<
      Pick<ParseInvoiceFileOptions, 'batchRows' | 'maxRejectsKept' | 'maxDuplicateDebtorsKept'>
    > &
      Pick<ParseInvoiceFileOptions, 'onReject'>,
  ) {}

  header(plan: ColumnPlan): void {
    this.plan = plan;
    this.ignoredColumns = [...plan.ignored];
    this.rules = new InvoiceRowRules(this.format, plan);
  }

  rejectFile(code: FileRejectionCode, reason: string): void {
    this.fileRejection ??= { code, reason };
  }

  invalid(line: number, reason: string, excerpt: string): void {
    this.rowsRead++;
    this.rejected++;
    this.addReject({ line, field: WHOLE_ROW, value: clip(excerpt.replace(/[\r\n]+$/, '')), reason });
  }

  record(values: readonly (string | undefined)[], line: number): void {
    const plan = this.plan!;
    // A CSV line of nothing but delimiters and spaces (spreadsheets write them) is not a row.
    if (plan.columns > 0 && !values[0]?.trim() && isBlank(values as readonly string[])) return;
    this.rowsRead++;
    if (plan.columns > 0 && values.length !== plan.columns && !this.onlyEmptyExtra(values, plan.columns)) {
      this.rejected++;
      this.addReject({
        line,
        field: WHOLE_ROW,
        value: clip(values.join(',')),
        reason: `has ${values.length} columns, but the header has ${plan.columns}${
          values.length > plan.columns ? ' (an unquoted delimiter inside a value?)' : ''
        }`,
      });
      return;
    }
    if (this.replacementSeen) {
      const damaged = this.damagedField(values, plan);
      if (damaged) {
        this.rejected++;
        this.addReject({
          line,
          field: damaged.field,
          value: clip(damaged.value),
          reason: this.invalidUtf8
            ? 'is not valid UTF-8 (the file is UTF-8; this row has bytes of another encoding): export the file again as UTF-8'
            : 'holds U+FFFD (�), the mark of text garbled by a wrong encoding before this file was written',
        });
        return;
      }
    }
    const problems = this.problems;
    problems.length = 0;
    const row = this.rules!.read(values, line, problems);
    if (!row) {
      this.rejected++;
      for (const problem of problems) {
        this.addReject({
          line,
          field: plan.names[problem.field],
          value: clip(problem.value),
          reason: problem.reason,
        });
      }
      return;
    }
    const firstLine = this.invoiceLines.setIfAbsent(row.invoiceId, line);
    if (firstLine >= 0) {
      this.rejected++;
      this.addReject({
        line,
        field: plan.names.invoiceId,
        value: clip(row.invoiceId),
        reason: `invoice ${row.invoiceId} appears twice in this file; the row on line ${firstLine} is the one taken`,
      });
      return;
    }
    this.valid++;
    const signed = row.kind === 'credit_note' ? -row.amount : row.amount;
    this.totals.set(row.currency, addMinor(this.totals.get(row.currency) ?? 0, signed));
    const reading = this.rules!.lastContact!;
    if (!reading.debtorChecked) {
      // Once per customer and contact: its later rows with the same contact add nothing.
      reading.debtorChecked = true;
      if (row.contact.email !== undefined) this.checkDebtor(this.emails, row.contact.email, 'email', row);
      if (row.contact.phone !== undefined) this.checkDebtor(this.phones, row.contact.phone, 'phone', row);
    }
    this.batch.push(row);
    if (this.batch.length >= this.options.batchRows) this.flush();
  }

  /** Moves the rows collected so far into a batch, grouped per customer in order of appearance. */
  flush(): void {
    if (this.batch.length === 0) return;
    const groups = new Map<string, AccountRows>();
    for (const row of this.batch) {
      const group = groups.get(row.customerId);
      if (group) {
        group.rows.push(row);
        group.contact = row.contact;
      } else {
        groups.set(row.customerId, { customerId: row.customerId, contact: row.contact, rows: [row] });
      }
    }
    this.ready.push({
      batch: {
        kind: 'batch',
        index: this.batches++,
        rowCount: this.batch.length,
        accounts: [...groups.values()],
      },
      rows: this.batch,
    });
    this.batch = [];
  }

  summary(base: Omit<IngestSummary, 'kind' | OwnFields>): IngestSummary {
    const rejectedWhole = this.fileRejection !== undefined && !this.handedOn;
    return {
      kind: 'summary',
      ...base,
      rowsRead: rejectedWhole ? 0 : this.rowsRead,
      valid: rejectedWhole ? 0 : this.valid,
      rejected: rejectedWhole ? 0 : this.rejected,
      rejects: rejectedWhole ? [] : this.rejects,
      rejectsOmitted: rejectedWhole ? 0 : this.rejectsOmitted,
      totals: rejectedWhole ? {} : Object.fromEntries([...this.totals].sort(([a], [b]) => (a < b ? -1 : 1))),
      duplicateDebtors: rejectedWhole ? [] : this.duplicateDebtors,
      duplicateDebtorsOmitted: rejectedWhole ? 0 : this.duplicateDebtorsOmitted,
      ignoredColumns: this.ignoredColumns,
      ...(this.fileRejection ? { fileRejection: this.fileRejection } : {}),
    };
  }

  private onlyEmptyExtra(values: readonly (string | undefined)[], columns: number): boolean {
    if (values.length < columns) return false;
    for (let i = columns; i < values.length; i++) if (values[i]?.trim()) return false;
    return true;
  }

  private damagedField(
    values: readonly (string | undefined)[],
    plan: ColumnPlan,
  ): { field: string; value: string } | undefined {
    for (let column = 0; column < values.length; column++) {
      const value = values[column];
      if (value === undefined || !value.includes('\uFFFD')) continue;
      const position = plan.index.indexOf(column);
      return { field: position >= 0 ? plan.names[FIELDS[position]!] : `column ${column + 1}`, value };
    }
    return undefined;
  }

  private checkDebtor(
    owners: Map<string, ContactOwner>,
    key: string,
    via: DuplicateDebtor['via'],
    row: InvoiceRow,
  ): void {
    const owner = owners.get(key);
    if (owner === undefined) {
      owners.set(detach(key), { customerId: detach(row.customerId), line: row.line });
      return;
    }
    if (owner.customerId === row.customerId) return;
    const pair = `${via}\u0000${owner.customerId}\u0000${row.customerId}`;
    if (this.flagged.has(pair)) return;
    this.flagged.add(pair);
    if (this.duplicateDebtors.length >= this.options.maxDuplicateDebtorsKept) {
      this.duplicateDebtorsOmitted++;
      return;
    }
    this.duplicateDebtors.push({
      customerIds: [owner.customerId, row.customerId],
      via,
      lines: [owner.line, row.line],
    });
  }

  private addReject(reject: RowReject): void {
    this.options.onReject?.(reject);
    if (this.rejects.length < this.options.maxRejectsKept) this.rejects.push(reject);
    else this.rejectsOmitted++;
  }
}

interface ContactOwner {
  customerId: string;
  line: number;
}

type OwnFields =
  | 'rowsRead'
  | 'valid'
  | 'rejected'
  | 'rejects'
  | 'rejectsOmitted'
  | 'totals'
  | 'duplicateDebtors'
  | 'duplicateDebtorsOmitted'
  | 'ignoredColumns'
  | 'fileRejection';

/**
 * Reads an invoice file (CSV or JSON Lines) as a stream and yields batches of valid rows, then
 * one summary. Never holds the file in memory: bytes are hashed, decoded and tokenized chunk by
 * chunk, and a batch is handed on as soon as it is full (the generator waits while the consumer
 * applies it, which holds back reading: backpressure).
 *
 * 1. A size over `maxFileBytes` rejects the file before reading; bytes are counted as they
 *    come too, in case the size was not known or not true.
 * 2. The first bytes are checked for binary content (NUL, control bytes, ZIP/PDF signatures,
 *    UTF-16).
 * 3. Bytes are decoded (UTF-8, Windows-1252, or `auto`, see `InvoiceTextDecoder`).
 * 4. The header is found and mapped onto our fields; a file without one is rejected whole.
 * 5. Each row is checked (`InvoiceRowRules`); a bad row is rejected with every problem it has,
 *    and the file goes on. A second row with the same invoice id is rejected, naming the first.
 * 6. Valid rows are grouped per customer into batches; customers sharing an e-mail or phone are
 *    flagged as possible duplicates.
 *
 * A whole-file rejection (empty, binary, UTF-16, no header, too large) comes as a summary with
 * `fileRejection` and no batches. If the stream turns out longer than the limit or than its
 * announced size after batches were yielded, the summary says so in `fileRejection` too: pass
 * `size` (S3 always knows it) so that cannot happen.
 */
export async function* parseInvoiceFile(
  input: InvoiceFileInput,
  options: ParseInvoiceFileOptions = {},
): AsyncGenerator<IngestEvent, void, undefined> {
  const format = InvoiceFormat.parse(input.format);
  const parse = new FileParse(format, {
    batchRows: options.batchRows ?? 500,
    maxRejectsKept: options.maxRejectsKept ?? 10_000,
    maxDuplicateDebtorsKept: options.maxDuplicateDebtorsKept ?? 1000,
    onReject: options.onReject,
  });
  const maxRecordChars = options.maxRecordChars ?? 64 * 1024;
  const source: RecordSource =
    format.format === 'csv'
      ? new CsvRecordSource(format, parse, maxRecordChars)
      : new JsonLinesRecordSource(format, parse);
  const decoder = new InvoiceTextDecoder(format.encoding);
  const hasher = createHash('sha256');
  let bytes = 0;
  let complete = true;
  const summary = (): IngestSummary =>
    parse.summary({
      fileName: input.fileName,
      format: format.format,
      bytes,
      checksum: complete ? hasher.digest('hex') : null,
      encoding: decoder.encoding ?? null,
      delimiter: source.delimiter ?? null,
    });
  const tooLarge = (size: number): FileRejection => ({
    code: 'too-large',
    reason: `the file has ${size} bytes, more than the limit of ${format.maxFileBytes}`,
  });

  if (input.size !== undefined && input.size > format.maxFileBytes) {
    complete = false;
    parse.fileRejection = tooLarge(input.size);
    yield summary();
    return;
  }

  const drain = options.drainOnReject ?? true;
  const digests = options.digests ?? 'inline';
  const digester =
    digests === 'worker' ? workerDigester() : digests === 'inline' ? inlineDigester() : digests;
  const inFlight: { batch: InvoiceBatch; done: Promise<void>; settled: boolean }[] = [];
  const launch = (): void => {
    for (const { batch, rows } of parse.ready) {
      const entry = { batch, settled: false, done: Promise.resolve() };
      entry.done = digester.digest(rows.map(canonicalRow)).then((values) => {
        for (let i = 0; i < rows.length; i++) rows[i]!.digest = values[i]!;
        entry.settled = true;
      });
      // A rejection surfaces where the entry is awaited; this only keeps it from being "unhandled".
      entry.done.catch(() => {});
      inFlight.push(entry);
    }
    parse.ready.length = 0;
  };

  let sniff: Buffer[] | undefined = [];
  let sniffed = 0;
  const feed = (text: string): void => {
    if (text.length === 0) return;
    if (!parse.replacementSeen && text.includes('\uFFFD')) {
      parse.replacementSeen = true;
      parse.invalidUtf8 = decoder.invalidUtf8;
    }
    source.push(text);
  };
  const sniffAndFeed = (first: Buffer): void => {
    const verdict = sniffFile(first);
    if (verdict) parse.rejectFile(verdict.code, verdict.reason);
    else feed(decoder.write(first));
  };

  try {
    for await (const chunk of input.body) {
      const buffer = toBuffer(chunk);
      bytes += buffer.length;
      if (bytes > format.maxFileBytes) {
        complete = false;
        parse.fileRejection = tooLarge(bytes);
        break;
      }
      hasher.update(buffer);
      if (parse.fileRejection) {
        if (!drain) {
          complete = false;
          break;
        }
        continue;
      }
      if (sniff) {
        sniff.push(buffer);
        sniffed += buffer.length;
        if (sniffed < SNIFF_BYTES) continue;
        const first = Buffer.concat(sniff);
        sniff = undefined;
        sniffAndFeed(first);
      } else {
        feed(decoder.write(buffer));
      }
      if (parse.fileRejection) continue;
      launch();
      // Hand on what is done; wait only when too much is in flight (bounded memory).
      while (inFlight.length > 0 && (inFlight[0]!.settled || inFlight.length > MAX_IN_FLIGHT)) {
        const head = inFlight.shift()!;
        await head.done;
        parse.handedOn = true;
        yield head.batch;
      }
    }

    if (!parse.fileRejection && sniff) {
      const first = Buffer.concat(sniff);
      if (first.length === 0) parse.rejectFile('empty', 'the file is empty (0 bytes)');
      else sniffAndFeed(first);
    }
    if (!parse.fileRejection) {
      feed(decoder.end());
      source.end();
    }
    if (!parse.fileRejection && input.size !== undefined && bytes !== input.size) {
      parse.rejectFile(
        'size-mismatch',
        `the file was announced with ${input.size} bytes but ${bytes} arrived`,
      );
    }
    if (!parse.fileRejection && parse.rowsRead === 0) {
      parse.rejectFile('no-rows', 'the file has a header but no rows');
    }
    if (!parse.fileRejection) {
      parse.flush();
      launch();
      for (const entry of inFlight) {
        await entry.done;
        parse.handedOn = true;
        yield entry.batch;
      }
    }
    inFlight.length = 0;
    yield summary();
  } finally {
    await digester.close();
  }
}

/** Reads the whole file into memory: for tests, the CLI and small files only. */
export const collectInvoiceFile = async (
  input: InvoiceFileInput,
  options: ParseInvoiceFileOptions = {},
): Promise<{ batches: InvoiceBatch[]; summary: IngestSummary }> => {
  const batches: InvoiceBatch[] = [];
  for await (const event of parseInvoiceFile(input, options)) {
    if (event.kind === 'summary') return { batches, summary: event };
    batches.push(event);
  }
  throw new Error('parseInvoiceFile ended without a summary');
};
