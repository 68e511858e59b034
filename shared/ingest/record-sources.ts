import { byteTextLength, decodeByteText } from './byte-text';
import { type CsvSink, CsvTokenizer } from './csv-tokenizer';
import type { InvoiceFormat } from './format';
import {
  type ColumnPlan,
  detectDelimiter,
  expectedNames,
  FIELDS,
  headerKey,
  REQUIRED_FIELDS,
  resolveHeader,
} from './header';

export type FileRejectionCode =
  | 'too-large'
  | 'empty'
  | 'binary'
  | 'utf-16'
  | 'no-header'
  | 'missing-columns'
  | 'duplicate-columns'
  | 'no-rows'
  | 'size-mismatch';

/** What a record source hands on: the column plan once, then records in file order. */
export interface RecordSink {
  header(plan: ColumnPlan): void;
  /** A record; `values[plan.index[k]]` is field k. */
  record(values: readonly (string | undefined)[], line: number): void;
  /**
   * A CSV record offered as ranges of the text first (see `CsvSink.fields`; `text` may be byte
   * text): true when taken, false to get it through `record`.
   */
  fields?: CsvSink['fields'];
  /** A record that cannot be read at all; it counts as a row read and rejected. */
  invalid(line: number, reason: string, excerpt: string): void;
  /** The file cannot be read: nothing more will come. */
  rejectFile(code: FileRejectionCode, reason: string): void;
}

/** Text in, records out; `end` after the last text. */
export interface RecordSource {
  /** `byteText`: the text is byte text (see byte-text.ts); only a CSV source is given it. */
  push(text: string, byteText?: boolean): void;
  end(): void;
  /** The delimiter in use once known (CSV). */
  readonly delimiter: string | undefined;
}

const MAX_HEADER_CHARS = 64 * 1024;
const SEP_LINE = /^sep=(.)$/i;

/** True for a record made of nothing but delimiters and spaces: not a row. */
export const isBlank = (fields: readonly string[]): boolean => {
  for (const field of fields) if (field.trim() !== '') return false;
  return true;
};

/**
 * CSV: finds the header (first line that is neither blank nor Excel's `sep=;` hint), settles the
 * delimiter (configured, else the `sep=` hint, else detected from the header) and the line ends
 * (CR alone or LF), then tokenizes. Lines are physical lines of the file, whatever was skipped.
 */
export class CsvRecordSource implements RecordSource {
  delimiter: string | undefined;
  private preamble = '';
  /** The preamble is byte text (see `push`). */
  private byteText = true;
  private tokenizer: CsvTokenizer | undefined;
  private plan: ColumnPlan | undefined;
  private done = false;

  constructor(
    private readonly format: InvoiceFormat,
    private readonly sink: RecordSink,
    private readonly maxRecordChars: number,
  ) {}

  /**
   * Byte text may come until decoded text comes (the decoder's rule): the header and records are
   * handed on decoded either way, and limits count decoded characters.
   */
  push(text: string, byteText = false): void {
    if (this.done) return;
    if (this.tokenizer) {
      this.tokenizer.write(text, this, byteText);
      return;
    }
    if (byteText !== this.byteText) {
      if (byteText) text = decodeByteText(text);
      else {
        this.preamble = decodeByteText(this.preamble);
        this.byteText = false;
      }
    }
    this.preamble += text;
    this.start(false);
  }

  /** The length in characters of `text.slice(start)` of the preamble. */
  private charsFrom(text: string, start: number): number {
    return this.byteText ? byteTextLength(text, start, text.length) : text.length - start;
  }

  end(): void {
    if (this.done) return;
    if (!this.tokenizer) this.start(true);
    if (this.tokenizer && !this.done) this.tokenizer.end(this);
    if (!this.done && !this.plan) {
      this.done = true;
      this.sink.rejectFile('empty', 'the file is empty: it holds no header and no rows');
    }
  }

  /** Looks for the header line in what came so far; starts the tokenizer once it is found. */
  private start(final: boolean): void {
    const text = this.preamble;
    const crAt = text.indexOf('\r');
    const lfAt = text.indexOf('\n');
    if (lfAt < 0 && crAt < 0 && !final && this.charsFrom(text, 0) < MAX_HEADER_CHARS) return;
    const crOnly = crAt >= 0 && (lfAt < 0 || crAt < lfAt - 1) && text.charCodeAt(crAt + 1) !== 10;
    if (crOnly && crAt === text.length - 1 && !final) return; // the LF may be in the next chunk
    const lineBreak = crOnly ? '\r' : '\n';
    let pos = 0;
    let skipped = 0;
    let sepDelimiter: string | undefined;
    for (;;) {
      const end = text.indexOf(lineBreak, pos);
      if (end < 0 && !final) {
        if (this.charsFrom(text, pos) < MAX_HEADER_CHARS) return;
        this.done = true;
        this.sink.rejectFile(
          'no-header',
          `no recognisable header: line ${skipped + 1} is longer than ${MAX_HEADER_CHARS} characters`,
        );
        return;
      }
      const lineEnd = end < 0 ? text.length : end;
      const line = (this.byteText ? decodeByteText(text, pos, lineEnd) : text.slice(pos, lineEnd)).replace(
        /\r$/,
        '',
      );
      const sep = SEP_LINE.exec(line.trim());
      if (line.trim() === '' || (sep && sepDelimiter === undefined && skipped === 0)) {
        if (sep) sepDelimiter = sep[1];
        if (end < 0) {
          // Only blank lines (or the hint) so far.
          if (!final) return;
          this.done = true;
          this.sink.rejectFile('empty', 'the file is empty: it holds no header and no rows');
          return;
        }
        pos = end + 1;
        skipped++;
        continue;
      }
      this.delimiter = this.format.delimiter ?? sepDelimiter ?? detectDelimiter(line);
      break;
    }
    this.preamble = '';
    this.tokenizer = new CsvTokenizer({
      delimiter: this.delimiter!,
      lineBreak,
      maxRecordChars: this.maxRecordChars,
      byteText: this.byteText,
    });
    this.tokenizer.lines = skipped;
    this.tokenizer.write(text.slice(pos), this, this.byteText);
  }

  record(fields: string[], line: number): void {
    if (this.done) return;
    if (this.plan) {
      this.sink.record(fields, line);
      return;
    }
    if (isBlank(fields)) return;
    const verdict = resolveHeader(fields, this.format.columns);
    if (!verdict.ok) {
      this.done = true;
      const seen = fields.length === 1 ? detectDelimiter(fields[0]!) : this.delimiter;
      const hint =
        verdict.code === 'no-header' &&
        seen !== undefined &&
        seen !== this.delimiter &&
        fields[0]!.includes(seen)
          ? ` (the format says the delimiter is "${this.delimiter}", but the line uses "${seen}")`
          : '';
      this.sink.rejectFile(verdict.code, verdict.reason + hint);
      return;
    }
    this.plan = verdict.plan;
    this.sink.header(verdict.plan);
  }

  fields(
    text: string,
    starts: Int32Array,
    ends: Int32Array,
    count: number,
    line: number,
    byteText: boolean,
  ): boolean {
    if (this.done) return true;
    // The header comes as strings; so does every record when the sink takes no ranges.
    return this.plan !== undefined && this.sink.fields !== undefined
      ? this.sink.fields(text, starts, ends, count, line, byteText)
      : false;
  }

  invalid(line: number, reason: string, excerpt: string): void {
    if (this.done) return;
    if (this.plan) {
      this.sink.invalid(line, reason, excerpt);
      return;
    }
    this.done = true;
    this.sink.rejectFile('no-header', `no recognisable header: line ${line} cannot be read (${reason})`);
  }
}

const MAX_JSON_LINE = 64 * 1024;

interface JsonContext {
  source?: string;
}

/** Keeps numbers as the text the file wrote (`12.30`, not 12.3): money never passes through a float. */
const numbersAsWritten = (_key: string, value: unknown, context?: JsonContext): unknown =>
  typeof value === 'number' ? (context?.source ?? String(value)) : value;

/**
 * JSON Lines: one object per line, keyed by the tenant's column names (case-insensitive). Values
 * are strings or numbers; null means absent. The first non-blank line must be an object naming
 * at least one required field, or the file is not what the format says it is.
 */
export class JsonLinesRecordSource implements RecordSource {
  readonly delimiter = undefined;
  private rest = '';
  private line = 0;
  private skipping = false;
  private started = false;
  private done = false;
  private readonly byKey = new Map<string, number>();
  private readonly plan: ColumnPlan;

  constructor(
    format: InvoiceFormat,
    private readonly sink: RecordSink,
  ) {
    const names = expectedNames(format.columns);
    FIELDS.forEach((field, position) => {
      this.byKey.set(headerKey(names[field]), position);
    });
    this.plan = { index: FIELDS.map((_, position) => position), names, columns: 0, ignored: [] };
  }

  push(text: string): void {
    if (this.done) return;
    const all = this.rest + text;
    let pos = 0;
    if (this.skipping) {
      const end = all.indexOf('\n');
      if (end < 0) {
        this.rest = '';
        return;
      }
      this.skipping = false;
      pos = end + 1;
    }
    for (;;) {
      const end = all.indexOf('\n', pos);
      if (end < 0) break;
      this.line++;
      this.handle(all.slice(pos, end));
      pos = end + 1;
      if (this.done) return;
    }
    this.rest = all.slice(pos);
    if (this.rest.length > MAX_JSON_LINE) {
      this.line++;
      this.handle(this.rest);
      this.rest = '';
      this.skipping = true;
    }
  }

  end(): void {
    if (this.done) return;
    if (this.rest.length > 0 && !this.skipping) {
      this.line++;
      this.handle(this.rest);
    }
    this.rest = '';
    if (!this.started && !this.done) {
      this.done = true;
      this.sink.rejectFile('empty', 'the file is empty: it holds no JSON lines');
    }
  }

  private handle(rawLine: string): void {
    const text = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (text.trim() === '') return;
    const line = this.line;
    if (text.length > MAX_JSON_LINE) {
      this.reject(line, `the line is longer than ${MAX_JSON_LINE} characters`, text);
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text, numbersAsWritten as (key: string, value: unknown) => unknown);
    } catch (error) {
      this.reject(line, `is not valid JSON (${(error as Error).message})`, text);
      return;
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      this.reject(line, 'is not a JSON object ({"customerId": …})', text);
      return;
    }
    const values: (string | undefined)[] = new Array(FIELDS.length).fill(undefined);
    let problem: string | undefined;
    for (const [key, value] of Object.entries(parsed)) {
      const position = this.byKey.get(headerKey(key));
      if (position === undefined || value === null) continue;
      if (values[position] !== undefined) problem ??= `names the field "${key}" twice`;
      else if (typeof value === 'string') values[position] = value;
      else
        problem ??= `"${key}" must be text or a number, not ${Array.isArray(value) ? 'a list' : typeof value}`;
    }
    if (!this.started) {
      const known = REQUIRED_FIELDS.some((field) => values[FIELDS.indexOf(field)] !== undefined);
      if (!known) {
        this.done = true;
        this.sink.rejectFile(
          'no-header',
          `no recognisable fields: the first object (line ${line}) names none of ${REQUIRED_FIELDS.map(
            (field) => `"${this.plan.names[field]}"`,
          ).join(', ')}`,
        );
        return;
      }
      this.started = true;
      this.sink.header(this.plan);
    }
    if (problem) this.sink.invalid(line, problem, text);
    else this.sink.record(values, line);
  }

  private reject(line: number, reason: string, text: string): void {
    if (!this.started) {
      this.done = true;
      this.sink.rejectFile('no-header', `the first line is not a JSON object: line ${line} ${reason}`);
      return;
    }
    this.sink.invalid(line, reason, text);
  }
}
