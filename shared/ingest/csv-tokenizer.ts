import { byteTextLength, decodeByteText } from './byte-text';

/**
 * Streaming RFC 4180 tokenizer that knows where each record starts in the file.
 *
 * Why not a library: measured on a 1,000,000-row file (bench/ingest-parse.bench.ts), csv-parse
 * reads about 230k rows/s, too slow for the 2x target on its own; papaparse about 620k rows/s;
 * udsv about 900k rows/s, the same speed as this tokenizer, but udsv skips blank lines without
 * saying so (physical line numbers become unknowable), drops a row with too few columns, folds
 * surplus columns into the last one and silently loses every row after an unclosed quote. A
 * quarantine that must account for every row cannot sit on that. This tokenizer is checked
 * against csv-parse on generated files (test/unit/ingest/csv-tokenizer.test.ts).
 *
 * Rules: fields are separated by `delimiter`; a field that starts with `"` is quoted, may hold
 * delimiters, line breaks and doubled quotes (`""`); a quote inside an unquoted field is an
 * ordinary character. Records end at LF (a CR before it is dropped) or, in files that use CR
 * alone, at CR. A record that cannot be read is reported with its line and a reason, and
 * reading goes on with the next line.
 */
export interface CsvSink {
  /** A record and the physical line (1-based) where it starts. `fields` is never empty. */
  record(fields: string[], line: number): void;
  /**
   * The same record offered first without cutting it into strings: field k is
   * `text.slice(starts[k], ends[k])` for k < count (a quoted field without doubled quotes is the
   * text between its quotes; a record with doubled quotes comes as ranges of a string made of
   * its values). When `byteText` is true, `text` is byte text (see byte-text.ts) and the ranges
   * are byte ranges. Return true when taken; false to get it as `record` instead.
   */
  fields?(
    text: string,
    starts: Int32Array,
    ends: Int32Array,
    count: number,
    line: number,
    byteText: boolean,
  ): boolean;
  /** A record that cannot be read; `excerpt` is its start, for the person who fixes it. */
  invalid(line: number, reason: string, excerpt: string): void;
}

export interface CsvTokenizerOptions {
  delimiter: string;
  /** `\n` (LF and CRLF files) or `\r` (files with CR line ends, such as old Mac Excel exports). */
  lineBreak?: '\n' | '\r';
  /** Longest record accepted; also bounds what an unclosed quote can swallow. */
  maxRecordChars?: number;
  /** The text written first is byte text (see `write`). */
  byteText?: boolean;
}

const QUOTE = 34;
const CR = 13;
const EXCERPT = 120;
/**
 * Bytes of byte text enough for EXCERPT characters: a UTF-16 code unit takes at most three bytes,
 * and a character cut at the end must not be one of the first EXCERPT.
 */
const EXCERPT_BYTES = 4 * EXCERPT;

export class CsvTokenizer {
  /** Physical lines fully consumed so far. */
  lines = 0;
  private rest = '';
  /** Discarding an over-long line until its end. */
  private skipping = false;
  private readonly delimiter: string;
  private readonly delimiterCode: number;
  private readonly lineBreak: string;
  private readonly lineBreakCode: number;
  private readonly maxRecordChars: number;
  /** Field boundaries of the record being read (see `CsvSink.fields`), reused for every record. */
  private starts = new Int32Array(64);
  private ends = new Int32Array(64);
  /** Values of the quoted fields that held doubled quotes, by field (the others are ranges). */
  private readonly unescaped: (string | undefined)[] = [];
  /** The text held (`rest`) and being read is byte text: see `write`. */
  private byteText: boolean;

  constructor(options: CsvTokenizerOptions) {
    if (options.delimiter.length !== 1) throw new RangeError('the delimiter must be one character');
    this.delimiter = options.delimiter;
    this.delimiterCode = options.delimiter.charCodeAt(0);
    this.lineBreak = options.lineBreak ?? '\n';
    this.lineBreakCode = this.lineBreak.charCodeAt(0);
    this.maxRecordChars = options.maxRecordChars ?? 64 * 1024;
    this.byteText = options.byteText ?? false;
  }

  /**
   * Reads `text`, which is byte text (see byte-text.ts) when `byteText` is true: the tokenizer
   * finds the same records in it, offers them as byte ranges, decodes what it hands on as strings
   * (records, excerpts) and counts limits in decoded characters, so a sink sees what decoded text
   * would give it. Once text comes decoded, everything after it is read decoded (byte text that
   * still comes is decoded first): the decoder stops giving byte text at the first malformed byte.
   */
  write(text: string, sink: CsvSink, byteText = false): void {
    if (byteText !== this.byteText) {
      if (byteText) text = decodeByteText(text);
      else {
        this.rest = decodeByteText(this.rest);
        this.byteText = false;
      }
    }
    const rest = this.rest;
    if (rest.length === 0) {
      this.run(text, 0, false, sink);
      return;
    }
    this.rest = '';
    // The record left unfinished by the last text usually ends on the first line of this one:
    // join just that line to it rather than copying the whole text behind it.
    const lineEnd = text.indexOf(this.lineBreak);
    if (lineEnd >= 0) {
      this.run(rest + text.slice(0, lineEnd + 1), 0, false, sink);
      if (this.rest.length === 0) {
        this.run(text, lineEnd + 1, false, sink);
        return;
      }
      // A quoted line break: the record goes on, so join the whole text after all.
      const unfinished = this.rest;
      this.rest = '';
      this.run(unfinished + text.slice(lineEnd + 1), 0, false, sink);
      return;
    }
    this.run(rest + text, 0, false, sink);
  }

  end(sink: CsvSink): void {
    const text = this.rest;
    this.rest = '';
    this.run(text, 0, true, sink);
  }

  private run(text: string, start: number, final: boolean, sink: CsvSink): void {
    const n = text.length;
    const lineBreak = this.lineBreak;
    let pos = start;
    if (this.skipping) {
      const end = text.indexOf(lineBreak, start);
      if (end < 0) {
        this.rest = '';
        return;
      }
      this.skipping = false;
      pos = end + 1;
    }
    let quoteAt = -1;
    while (pos < n) {
      let lineEnd = text.indexOf(lineBreak, pos);
      if (lineEnd < 0) {
        if (!final) {
          if (this.longer(text, pos, n)) {
            this.lines++;
            sink.invalid(this.lines, this.tooLong(), this.excerpt(text, pos, n));
            this.skipping = true;
            pos = n;
          }
          break;
        }
        lineEnd = n;
      }
      if (quoteAt < pos) {
        quoteAt = text.indexOf('"', pos);
        if (quoteAt < 0) quoteAt = Number.MAX_SAFE_INTEGER;
      }
      if (quoteAt > lineEnd) {
        // No quote before the line break: the common case, one native split.
        let end = lineEnd;
        if (end > pos && text.charCodeAt(end - 1) === CR) end--;
        this.lines++;
        if (this.longer(text, pos, end)) {
          sink.invalid(this.lines, this.tooLong(), this.excerpt(text, pos, n));
        } else if (end > pos && !(sink.fields !== undefined && this.offer(text, pos, end, sink))) {
          sink.record(this.decoded(text, pos, end).split(this.delimiter), this.lines);
        }
        pos = lineEnd + 1;
        continue;
      }
      const next = this.quoted(text, pos, final, sink);
      if (next < 0) break;
      pos = next;
    }
    this.rest = pos < n ? text.slice(pos) : '';
  }

  /** Offers an unquoted record as ranges; false when it was not taken. */
  private offer(text: string, start: number, end: number, sink: CsvSink): boolean {
    const delimiter = this.delimiter;
    let count = 0;
    let from = start;
    for (;;) {
      if (count === this.starts.length) this.widen();
      const stop = text.indexOf(delimiter, from);
      this.starts[count] = from;
      if (stop < 0 || stop >= end) {
        this.ends[count++] = end;
        break;
      }
      this.ends[count++] = stop;
      from = stop + 1;
    }
    return sink.fields!(text, this.starts, this.ends, count, this.lines, this.byteText);
  }

  private tooLong(): string {
    return `the row is longer than ${this.maxRecordChars} characters`;
  }

  /** True when `text.slice(start, end)` is longer than `maxRecordChars` characters (decoded). */
  private longer(text: string, start: number, end: number): boolean {
    // Byte text has at least as many bytes as characters: count them only when it may be over.
    return (
      end - start > this.maxRecordChars &&
      (!this.byteText || byteTextLength(text, start, end) > this.maxRecordChars)
    );
  }

  /** The text of `text.slice(start, end)`, decoded when it is byte text. */
  private decoded(text: string, start: number, end: number): string {
    return this.byteText ? decodeByteText(text, start, end) : text.slice(start, end);
  }

  /** At most the first EXCERPT characters of `text.slice(start, end)`, decoded. */
  private excerpt(text: string, start: number, end: number): string {
    if (!this.byteText) return text.slice(start, Math.min(end, start + EXCERPT));
    return decodeByteText(text, start, Math.min(end, start + EXCERPT_BYTES)).slice(0, EXCERPT);
  }

  /** Hands a record on as strings (decoded when they are byte text). */
  private hand(fields: string[], line: number, sink: CsvSink): void {
    if (this.byteText) for (let k = 0; k < fields.length; k++) fields[k] = decodeByteText(fields[k]!);
    sink.record(fields, line);
  }

  /**
   * Reads one record that holds a quote, from `start`. Returns where the next record starts, or
   * -1 when the record is not complete yet and more text must come.
   */
  private quoted(text: string, start: number, final: boolean, sink: CsvSink): number {
    const n = text.length;
    const delimiter = this.delimiter;
    const delimiterCode = this.delimiterCode;
    const lineBreak = this.lineBreak;
    const crlf = this.lineBreakCode !== CR;
    const unescaped = this.unescaped;
    let count = 0;
    let escapes = false;
    let embedded = 0;
    let problem: string | undefined;
    let nextBreak = text.indexOf(lineBreak, start);
    if (nextBreak < 0) nextBreak = n;
    let i = start;
    for (;;) {
      if (count === this.starts.length) this.widen();
      let from: number;
      let to: number;
      let value: string | undefined;
      if (text.charCodeAt(i) === QUOTE) {
        from = i + 1;
        to = -1;
        let j = from;
        for (;;) {
          const quote = text.indexOf('"', j);
          if (quote < 0 || (quote + 1 >= n && !final)) break;
          if (nextBreak < j) {
            nextBreak = text.indexOf(lineBreak, j);
            if (nextBreak < 0) nextBreak = n;
          }
          while (nextBreak < quote) {
            embedded++;
            nextBreak = text.indexOf(lineBreak, nextBreak + 1);
            if (nextBreak < 0) nextBreak = n;
          }
          if (text.charCodeAt(quote + 1) === QUOTE) {
            value = `${value ?? ''}${text.slice(j, quote)}"`;
            j = quote + 2;
            continue;
          }
          if (value !== undefined) value += text.slice(j, quote);
          to = quote;
          break;
        }
        if (to < 0) {
          if (!final && !this.longer(text, start, n)) return -1;
          const reason = final
            ? `the quote that opens column ${count + 1} is never closed`
            : `the quote that opens column ${count + 1} is not closed within ${this.maxRecordChars} characters`;
          return this.giveUp(text, start, final, reason, sink);
        }
        i = to + 1;
        if (nextBreak < i) {
          nextBreak = text.indexOf(lineBreak, i);
          if (nextBreak < 0) nextBreak = n;
        }
        const after = i < n ? text.charCodeAt(i) : -1;
        if (after === CR && crlf && i + 1 >= n && !final) return this.incomplete(text, start, final, sink);
        const fieldEnds =
          after === -1 ||
          after === delimiterCode ||
          i === nextBreak ||
          (after === CR && crlf && (i + 1 === n || i + 1 === nextBreak));
        if (!fieldEnds) {
          // The record is refused whole: no need for the value.
          problem ??= `column ${count + 1} has text after its closing quote (inside quotes, write a quote as "")`;
          let stop = text.indexOf(delimiter, i);
          if (stop < 0 || stop > nextBreak) stop = nextBreak;
          if (stop === n && !final) return this.incomplete(text, start, final, sink);
          i = stop;
        } else if (after === CR && crlf) {
          i++;
        }
      } else {
        let stop = text.indexOf(delimiter, i);
        if (stop < 0 || stop > nextBreak) stop = nextBreak;
        if (stop === n && !final) return this.incomplete(text, start, final, sink);
        let end = stop;
        if (crlf && stop === nextBreak && end > i && text.charCodeAt(end - 1) === CR) end--;
        from = i;
        to = end;
        i = stop;
      }
      this.starts[count] = from;
      this.ends[count] = to;
      unescaped[count++] = value;
      if (value !== undefined) escapes = true;
      if (i < n && text.charCodeAt(i) === delimiterCode) {
        i++;
        if (i >= n && !final) return this.incomplete(text, start, final, sink);
        continue;
      }
      if (i < n) i++;
      break;
    }
    const line = this.lines + 1;
    this.lines += 1 + embedded;
    if (this.longer(text, start, i)) sink.invalid(line, this.tooLong(), this.excerpt(text, start, n));
    else if (problem) sink.invalid(line, problem, this.excerpt(text, start, i));
    else if (!escapes) {
      if (sink.fields === undefined || !sink.fields(text, this.starts, this.ends, count, line, this.byteText))
        this.hand(this.cut(text, count), line, sink);
    } else {
      const fields = this.cut(text, count);
      if (sink.fields === undefined || !this.offerValues(fields, line, sink)) this.hand(fields, line, sink);
    }
    return i;
  }

  /** The fields of the record just read, as strings. */
  private cut(text: string, count: number): string[] {
    const fields: string[] = new Array(count);
    for (let k = 0; k < count; k++)
      fields[k] = this.unescaped[k] ?? text.slice(this.starts[k]!, this.ends[k]!);
    return fields;
  }

  /**
   * Offers a record whose fields needed unescaping as ranges too: of one string made of its
   * values (a name such as "The ""Best"" Ltd" is common, and every row of its customer would
   * otherwise come as strings). False when it was not taken.
   */
  private offerValues(fields: string[], line: number, sink: CsvSink): boolean {
    let at = 0;
    for (let k = 0; k < fields.length; k++) {
      this.starts[k] = at;
      at += fields[k]!.length;
      this.ends[k] = at;
    }
    return sink.fields!(fields.join(''), this.starts, this.ends, fields.length, line, this.byteText);
  }

  /** Room for twice as many field boundaries. */
  private widen(): void {
    const starts = new Int32Array(this.starts.length * 2);
    const ends = new Int32Array(this.ends.length * 2);
    starts.set(this.starts);
    ends.set(this.ends);
    this.starts = starts;
    this.ends = ends;
  }

  private incomplete(text: string, start: number, final: boolean, sink: CsvSink): number {
    if (!this.longer(text, start, text.length)) return -1;
    return this.giveUp(text, start, final, this.tooLong(), sink);
  }

  /**
   * A record that cannot be read (a quote that never closes would swallow the rest of the file):
   * report the line where it starts and go on with the next physical line.
   */
  private giveUp(text: string, start: number, final: boolean, reason: string, sink: CsvSink): number {
    const lineEnd = text.indexOf(this.lineBreak, start);
    this.lines++;
    sink.invalid(this.lines, reason, this.excerpt(text, start, lineEnd < 0 ? text.length : lineEnd));
    if (lineEnd >= 0) return lineEnd + 1;
    this.skipping = !final;
    return text.length;
  }
}
