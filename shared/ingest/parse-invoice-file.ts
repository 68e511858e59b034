import { createHash } from 'node:crypto';
import type { Contact } from '../domain/account/account';
import { addMinor } from '../domain/money';
import { BYTE_TEXT_REPLACEMENT } from './byte-text';
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
import { detach, type FieldProblem, InvoiceRowRules, loadPhoneRules } from './row-rules';
import { hashSequentialKey, hashSequentialRange, StringTable } from './string-table';
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

/**
 * Bytes decoded at a time. A 64 KiB S3 chunk of text with one character beyond Latin-1 decodes to
 * a 128 KiB string, which V8 puts in its large-object space, freed only by a full collection:
 * with 32 KiB the text of each piece dies young, and peak memory halves (measured).
 */
const DECODE_BYTES = 32 * 1024;

/** Bytes looked at for signs of a binary file before decoding starts. */
const SNIFF_BYTES = 8 * 1024;
const MAX_VALUE = 200;
/** The fewest bytes a row of an export usually takes, to size the table of invoice ids. */
const BYTES_PER_ROW = 128;
/** Position of `invoiceId` in FIELDS. */
const INVOICE_ID = FIELDS.indexOf('invoiceId');

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
 * id with the table's spare room: 60 MB for 1,000,000 rows; sized from the file's size at the
 * start, so it is not rebuilt as it grows); the contact tables one entry per distinct e-mail and
 * phone (about 80 bytes each); the row rules keep the last contact of up to 100,000 customers
 * (about 35 MB); the rest is bounded by the batch and chunk sizes.
 */
class FileParse implements RecordSink {
  rowsRead = 0;
  valid = 0;
  rejected = 0;
  rejects: RowReject[] = [];
  rejectsOmitted = 0;
  fileRejection: FileRejection | undefined;
  ignoredColumns: string[] = [];
  /** Batches complete, waiting to be handed on. */
  private ready: InvoiceBatch[] = [];
  /** Set once decoded text held U+FFFD: from then on rows are checked for it. */
  replacementSeen = false;
  invalidUtf8 = false;
  private rules: InvoiceRowRules | undefined;
  private plan: ColumnPlan | undefined;
  private readonly problems: FieldProblem[] = [];
  /**
   * Invoice id -> the line of its row, hashed with `hashSequentialRange`/`hashSequentialKey`
   * (the two must agree): ids come in numbered runs, and neighbouring slots keep the table's
   * reads close together.
   */
  private readonly invoiceLines: StringTable;
  /** What `StringTable.touch` read: kept only so that the read is not optimised away. */
  private touched = 0;
  /** Normalised e-mail / phone -> the first customer that used it, and the line (by owner number). */
  private readonly emails = new StringTable(1024);
  private readonly phones = new StringTable(1024);
  private readonly ownerIds: string[] = [];
  private readonly ownerLines: number[] = [];
  private readonly flagged = new Set<string>();
  readonly duplicateDebtors: DuplicateDebtor[] = [];
  duplicateDebtorsOmitted = 0;
  /** Per currency: a box, so adding to it allocates nothing. */
  private readonly totals = new Map<string, { sum: number }>();
  /** The batch being filled: its customers in order of appearance, and its row count. */
  private accounts: AccountRows[] = [];
  private batchRows = 0;
  /** Groups in the batches before the one being filled. */
  private groupsBefore = 0;
  /** Customers of the batch being filled that the rules do not remember (beyond 100,000). */
  private readonly strays = new Map<string, AccountRows>();
  private batches = 0;
  /** True once a batch was handed to the consumer. */
  handedOn = false;

  constructor(
    private readonly format: InvoiceFormat,
    private readonly options: Required<
      Pick<ParseInvoiceFileOptions, 'batchRows' | 'maxRejectsKept' | 'maxDuplicateDebtorsKept'>
    > &
      Pick<ParseInvoiceFileOptions, 'onReject'>,
    size: number | undefined,
  ) {
    // Sized for the rows the file likely holds, so the table of invoice ids is not rebuilt as
    // it grows (each rebuild places every id again): a row of an export takes 100-200 bytes.
    this.invoiceLines = new StringTable(Math.max(4096, Math.floor((size ?? 0) / BYTES_PER_ROW)));
  }

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

  /**
   * A CSV record as ranges of the text: taken here when it has the header's column count and the
   * rules find it plainly valid (most rows), else handed back to come as strings to `record`.
   */
  fields(
    text: string,
    starts: Int32Array,
    ends: Int32Array,
    count: number,
    line: number,
    byteText: boolean,
  ): boolean {
    const plan = this.plan!;
    if (count !== plan.columns) return false;
    if (this.replacementSeen) {
      const mark = text.indexOf(byteText ? BYTE_TEXT_REPLACEMENT : '\uFFFD', starts[0]!);
      if (mark >= 0 && mark < ends[count - 1]!) return false;
    }
    // The customer's slot (in a table of up to 100,000) and the invoice id's are read first, so
    // that the waits for memory overlap with each other and with the hashing.
    const rules = this.rules!;
    const idHash = rules.idHash(text, starts, ends);
    this.touched ^= rules.customers.touch(idHash);
    const invoiceColumn = plan.index[INVOICE_ID]!;
    const invoiceHash = hashSequentialRange(text, starts[invoiceColumn]!, ends[invoiceColumn]!);
    this.touched ^= this.invoiceLines.touch(invoiceHash);
    const row = rules.readRanges(text, starts, ends, line, byteText, idHash);
    if (row === undefined) return false;
    this.rowsRead++;
    const firstLine = this.invoiceLines.setIfAbsentAt(
      text,
      starts[invoiceColumn]!,
      ends[invoiceColumn]!,
      invoiceHash,
      line,
    );
    this.take(row, firstLine);
    return true;
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
    this.take(
      row,
      this.invoiceLines.setIfAbsentHashed(row.invoiceId, hashSequentialKey(row.invoiceId), row.line),
    );
  }

  /**
   * A row the rules found valid, after its invoice id went into the file's table: rejected when
   * the id was there already (`firstLine`, the line of the row taken), else into the batch.
   */
  private take(row: InvoiceRow, firstLine: number): void {
    if (firstLine >= 0) {
      this.rejected++;
      this.addReject({
        line: row.line,
        field: this.plan!.names.invoiceId,
        value: clip(row.invoiceId),
        reason: `invoice ${row.invoiceId} appears twice in this file; the row on line ${firstLine} is the one taken`,
      });
      return;
    }
    this.valid++;
    const signed = row.kind === 'credit_note' ? -row.amount : row.amount;
    const total = this.totals.get(row.currency);
    if (total === undefined) this.totals.set(row.currency, { sum: signed });
    else total.sum = addMinor(total.sum, signed);
    const rules = this.rules!;
    const customers = rules.customers;
    // The customer's slot in the rules' table when it is remembered (the first 100,000).
    const slot = rules.lastSlot;
    if (slot < 0 || !customers.isChecked(slot)) {
      // Once per remembered customer and contact: its later rows with the same contact add nothing.
      if (slot >= 0) customers.setChecked(slot);
      if (row.contact.email !== undefined) this.checkDebtor(this.emails, row.contact.email, 'email', row);
      if (row.contact.phone !== undefined) this.checkDebtor(this.phones, row.contact.phone, 'phone', row);
    }
    // Grouped per customer as rows come: the rules' table keeps the number of the customer's
    // latest group (numbered across batches), so no lookup is needed here.
    let group: AccountRows | undefined;
    if (slot >= 0) {
      const number = customers.groupAt(slot) - this.groupsBefore;
      if (number >= 0) group = this.accounts[number];
    } else {
      group = this.strays.get(row.customerId);
    }
    if (group !== undefined) {
      group.rows.push(row);
      group.contact = row.contact;
    } else {
      group = new CustomerGroup(row);
      if (slot >= 0) customers.setGroup(slot, this.groupsBefore + this.accounts.length);
      else this.strays.set(row.customerId, group);
      this.accounts.push(group);
    }
    if (++this.batchRows >= this.options.batchRows) this.flush();
  }

  /** The batches completed since the last call. */
  takeReady(): InvoiceBatch[] {
    const ready = this.ready;
    if (ready.length > 0) this.ready = [];
    return ready;
  }

  /** Moves the rows collected so far into a batch, grouped per customer in order of appearance. */
  flush(): void {
    if (this.batchRows === 0) return;
    this.ready.push(new Batch(this.batches++, this.batchRows, this.accounts));
    this.groupsBefore += this.accounts.length;
    this.accounts = [];
    this.batchRows = 0;
    this.strays.clear();
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
      totals: rejectedWhole
        ? {}
        : Object.fromEntries(
            [...this.totals]
              .map(([currency, total]) => [currency, total.sum])
              .sort(([a], [b]) => (a! < b! ? -1 : 1)),
          ),
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

  private checkDebtor(owners: StringTable, key: string, via: DuplicateDebtor['via'], row: InvoiceRow): void {
    const owner = owners.setIfAbsent(key, this.ownerIds.length);
    if (owner < 0) {
      // The id is the rules' shared string for a remembered customer; detach copies the others.
      this.ownerIds.push(detach(row.customerId));
      this.ownerLines.push(row.line);
      return;
    }
    const ownerId = this.ownerIds[owner]!;
    if (ownerId === row.customerId) return;
    const pair = `${via}\u0000${ownerId}\u0000${row.customerId}`;
    if (this.flagged.has(pair)) return;
    this.flagged.add(pair);
    if (this.duplicateDebtors.length >= this.options.maxDuplicateDebtorsKept) {
      this.duplicateDebtorsOmitted++;
      return;
    }
    this.duplicateDebtors.push({
      customerIds: [ownerId, row.customerId],
      via,
      lines: [this.ownerLines[owner]!, row.line],
    });
  }

  private addReject(reject: RowReject): void {
    this.options.onReject?.(reject);
    if (this.rejects.length < this.options.maxRejectsKept) this.rejects.push(reject);
    else this.rejectsOmitted++;
  }
}

/**
 * A batch, and below one customer's rows in it: classes, not literals. V8 watches what a literal
 * allocates and, when the few it samples happen to outlive a young-generation collection (a batch
 * does live a while), allocates all later ones in the old generation ("pretenuring"). There they
 * are freed only by a full collection, and meanwhile keep every younger row they point to alive
 * through the young collections too. On the 1,000,000-row bench file that struck in about half
 * the runs (peak RSS 400 MB instead of 250 MB, slower collections); what `new` allocates is not
 * pretenured.
 */
class Batch implements InvoiceBatch {
  readonly kind: 'batch';
  readonly index: number;
  readonly rowCount: number;
  readonly accounts: AccountRows[];

  constructor(index: number, rowCount: number, accounts: AccountRows[]) {
    this.kind = 'batch';
    this.index = index;
    this.rowCount = rowCount;
    this.accounts = accounts;
  }
}

const ONE_SLOT: readonly unknown[] = [null];

class CustomerGroup implements AccountRows {
  readonly customerId: string;
  contact: Contact;
  readonly rows: InvoiceRow[];

  constructor(row: InvoiceRow) {
    this.customerId = row.customerId;
    this.contact = row.contact;
    // A copy of a one-slot template: the size of `[row]`, without the literal (see `Batch`).
    const rows = ONE_SLOT.slice() as InvoiceRow[];
    rows[0] = row;
    this.rows = rows;
  }
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
  await loadPhoneRules();
  const parse = new FileParse(
    format,
    {
      batchRows: options.batchRows ?? 500,
      maxRejectsKept: options.maxRejectsKept ?? 10_000,
      maxDuplicateDebtorsKept: options.maxDuplicateDebtorsKept ?? 1000,
      onReject: options.onReject,
    },
    input.size !== undefined && input.size <= format.maxFileBytes ? input.size : undefined,
  );
  const maxRecordChars = options.maxRecordChars ?? 64 * 1024;
  const source: RecordSource =
    format.format === 'csv'
      ? new CsvRecordSource(format, parse, maxRecordChars)
      : new JsonLinesRecordSource(format, parse);
  // CSV is tokenized as byte text while the file is well-formed UTF-8 (see byte-text.ts).
  const decoder = new InvoiceTextDecoder(format.encoding, { byteText: format.format === 'csv' });
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

  let sniff: Buffer[] | undefined = [];
  let sniffed = 0;
  const feed = (text: string): void => {
    if (text.length === 0) return;
    const byteText = decoder.byteText;
    if (!parse.replacementSeen && text.includes(byteText ? BYTE_TEXT_REPLACEMENT : '\uFFFD')) {
      parse.replacementSeen = true;
      parse.invalidUtf8 = decoder.invalidUtf8;
    }
    source.push(text, byteText);
  };
  const decodeAndFeed = (buffer: Buffer): void => {
    for (let at = 0; at < buffer.length; at += DECODE_BYTES)
      feed(decoder.write(buffer.subarray(at, at + DECODE_BYTES)));
  };
  const sniffAndFeed = (first: Buffer): void => {
    const verdict = sniffFile(first);
    if (verdict) parse.rejectFile(verdict.code, verdict.reason);
    else decodeAndFeed(first);
  };

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
      decodeAndFeed(buffer);
    }
    if (parse.fileRejection) continue;
    // Hand on what is complete: the consumer's pace holds back reading (backpressure).
    for (const batch of parse.takeReady()) {
      parse.handedOn = true;
      yield batch;
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
    parse.rejectFile('size-mismatch', `the file was announced with ${input.size} bytes but ${bytes} arrived`);
  }
  if (!parse.fileRejection && parse.rowsRead === 0) {
    parse.rejectFile('no-rows', 'the file has a header but no rows');
  }
  if (!parse.fileRejection) {
    parse.flush();
    for (const batch of parse.takeReady()) {
      parse.handedOn = true;
      yield batch;
    }
  }
  yield summary();
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
