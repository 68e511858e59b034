import { isAscii, isUtf8 } from 'node:buffer';
import { decodeByteText, toByteText } from './byte-text';

export type TextEncoding = 'utf-8' | 'windows-1252';
export type EncodingSetting = 'auto' | TextEncoding;

/**
 * How many bytes after the first non-ASCII byte `auto` looks at before it decides. Enough to see
 * several rows with accented names; small enough to hold in memory.
 */
export const DECISION_WINDOW = 64 * 1024;

/** Bytes Windows-1252 leaves undefined: a file holding them is not Windows-1252 text. */
const UNDEFINED_IN_1252 = new Set([0x81, 0x8d, 0x8f, 0x90, 0x9d]);

export interface Utf8Census {
  /** Well-formed multi-byte sequences: evidence of UTF-8. */
  multiByte: number;
  /** Bytes that cannot start or continue a UTF-8 sequence where they stand. */
  invalid: number;
  /** Bytes with no meaning in Windows-1252. */
  undefinedIn1252: number;
}

/**
 * Counts UTF-8 evidence in `bytes` (RFC 3629: no overlong forms, no surrogates, nothing above
 * U+10FFFF). A sequence cut off at the end counts as nothing unless `final`.
 */
export const utf8Census = (bytes: Uint8Array, final: boolean): Utf8Census => {
  const census: Utf8Census = { multiByte: 0, invalid: 0, undefinedIn1252: 0 };
  let i = 0;
  const n = bytes.length;
  while (i < n) {
    const lead = bytes[i]!;
    if (lead < 0x80) {
      i++;
      continue;
    }
    if (UNDEFINED_IN_1252.has(lead)) census.undefinedIn1252++;
    let length = 0;
    let low = 0x80;
    let high = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf) length = 2;
    else if (lead >= 0xe0 && lead <= 0xef) {
      length = 3;
      if (lead === 0xe0) low = 0xa0;
      if (lead === 0xed) high = 0x9f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      length = 4;
      if (lead === 0xf0) low = 0x90;
      if (lead === 0xf4) high = 0x8f;
    }
    if (length === 0) {
      census.invalid++;
      i++;
      continue;
    }
    if (i + length > n && !final) break;
    let valid = i + length <= n;
    for (let k = 1; valid && k < length; k++) {
      const next = bytes[i + k]!;
      const min = k === 1 ? low : 0x80;
      const max = k === 1 ? high : 0xbf;
      if (next < min || next > max) valid = false;
    }
    if (valid) {
      census.multiByte++;
      i += length;
    } else {
      census.invalid++;
      i++;
    }
  }
  return census;
};

/**
 * `auto`'s verdict on the bytes around the first non-ASCII byte. Invalid UTF-8 alone is not
 * enough to call a file Windows-1252: a UTF-8 file with a few rows pasted from elsewhere stays
 * UTF-8 (those rows are rejected for their encoding, never re-decoded). Only bytes that are never
 * valid UTF-8, with no well-formed UTF-8 beside them and nothing Windows-1252 leaves undefined,
 * make the file Windows-1252.
 */
export const decideEncoding = (census: Utf8Census): TextEncoding =>
  census.invalid > 0 && census.multiByte === 0 && census.undefinedIn1252 === 0 ? 'windows-1252' : 'utf-8';

/** Length of the tail of `bytes` that starts a UTF-8 sequence the next chunk must complete. */
const incompleteTail = (bytes: Uint8Array): number => {
  const n = bytes.length;
  for (let back = 1; back <= Math.min(3, n); back++) {
    const byte = bytes[n - back]!;
    if ((byte & 0xc0) === 0x80) continue;
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return needed > back ? back : 0;
  }
  return 0;
};

const toBuffer = (bytes: Uint8Array): Buffer =>
  Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/**
 * Streaming bytes-to-text for invoice files: strips a UTF-8 BOM, decodes UTF-8 or Windows-1252,
 * and for `auto` decides between them on the first non-ASCII bytes (see {@link decideEncoding}).
 * Invalid UTF-8 becomes U+FFFD and sets {@link invalidUtf8}, so the caller can reject the rows
 * that hold it. A UTF-8 BOM wins over a configured Windows-1252: decoding BOM-marked UTF-8 as
 * Windows-1252 would garble every accented letter.
 *
 * With the `byteText` option, well-formed UTF-8 comes out as byte text (see byte-text.ts) rather
 * than decoded, and {@link byteText} says which the last text returned is. It stays byte text
 * until the first piece that is not well-formed UTF-8 (or the file turns out Windows-1252): from
 * then on every piece comes decoded, so U+FFFD marks the damaged rows exactly as without the
 * option. (Text that is ASCII alone is both.)
 */
export class InvoiceTextDecoder {
  /** Undefined until decided (`auto` and only ASCII seen so far). */
  encoding: TextEncoding | undefined;
  /** True once any byte sequence was not valid UTF-8 in a file decoded as UTF-8. */
  invalidUtf8 = false;
  /**
   * True while the text returned is byte text (only with the `byteText` option); once false, it
   * stays false.
   */
  byteText: boolean;
  bomSeen = false;
  private head: Buffer | undefined = Buffer.alloc(0);
  private carry: Buffer | undefined;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private readonly win1252 = new TextDecoder('windows-1252');

  constructor(
    private readonly setting: EncodingSetting,
    options: { byteText?: boolean } = {},
  ) {
    this.byteText = options.byteText ?? false;
  }

  /** Decodes the next chunk; may return '' while it holds bytes back (BOM check, `auto`). */
  write(chunk: Uint8Array): string {
    let bytes = toBuffer(chunk);
    if (this.head) {
      // The first three bytes decide on a BOM; hold them until there are three.
      bytes = this.head.length ? Buffer.concat([this.head, bytes]) : bytes;
      if (bytes.length < 3) {
        this.head = bytes;
        return '';
      }
      this.head = undefined;
      bytes = this.afterBom(bytes);
    }
    return this.decode(bytes, false);
  }

  end(): string {
    let text = '';
    if (this.head) {
      const bytes = this.head;
      this.head = undefined;
      text += this.decode(this.afterBom(bytes), false);
    }
    const wasByteText = this.byteText;
    const last = this.decode(Buffer.alloc(0), true);
    // The last bytes were not well-formed: what came before them in this call is decoded too.
    return wasByteText && !this.byteText ? decodeByteText(text) + last : text + last;
  }

  private afterBom(bytes: Buffer): Buffer {
    if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
      this.bomSeen = true;
      this.encoding = 'utf-8';
      return bytes.subarray(3);
    }
    if (this.setting !== 'auto') this.encoding = this.setting;
    return bytes;
  }

  private decode(bytes: Buffer, final: boolean): string {
    if (this.encoding === 'windows-1252') {
      this.byteText = false;
      return this.win1252.decode(bytes, { stream: !final });
    }
    if (this.encoding === 'utf-8') return this.utf8(bytes, final);
    return this.undecided(bytes, final);
  }

  private undecided(bytes: Buffer, final: boolean): string {
    let text = '';
    if (this.pendingBytes === 0) {
      if (isAscii(bytes)) {
        // Nothing but ASCII so far: both encodings read it alike, so it passes straight through.
        if (final) this.encoding = 'utf-8';
        return bytes.toString('latin1');
      }
      let first = 0;
      while (bytes[first]! < 0x80) first++;
      text = bytes.toString('latin1', 0, first);
      bytes = bytes.subarray(first);
    }
    if (bytes.length > 0) {
      this.pending.push(bytes);
      this.pendingBytes += bytes.length;
    }
    if (this.pendingBytes < DECISION_WINDOW && !final) return text;
    const window = Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    this.encoding = decideEncoding(utf8Census(window, final));
    return text + this.decode(window, final);
  }

  private utf8(bytes: Buffer, final: boolean): string {
    if (this.carry) {
      bytes = Buffer.concat([this.carry, bytes]);
      this.carry = undefined;
    }
    const tail = final ? 0 : incompleteTail(bytes);
    if (tail > 0) {
      this.carry = Buffer.from(bytes.subarray(bytes.length - tail));
      bytes = bytes.subarray(0, bytes.length - tail);
    }
    if (!isUtf8(bytes)) {
      this.invalidUtf8 = true;
      this.byteText = false;
    }
    return this.byteText ? toByteText(bytes) : bytes.toString('utf8');
  }
}

export interface FileSniff {
  code: 'binary' | 'utf-16';
  reason: string;
}

const SIGNATURES: { bytes: number[]; what: string }[] = [
  {
    bytes: [0x50, 0x4b, 0x03, 0x04],
    what: 'a ZIP archive or an Excel workbook (.xlsx); save it as CSV UTF-8',
  },
  { bytes: [0xd0, 0xcf, 0x11, 0xe0], what: 'an old Excel workbook (.xls); save it as CSV UTF-8' },
  { bytes: [0x25, 0x50, 0x44, 0x46], what: 'a PDF document' },
  { bytes: [0x1f, 0x8b], what: 'a gzip archive; upload it uncompressed' },
];

/**
 * Looks at the first bytes of a file for signs that it is not text at all. Control bytes other
 * than tab, CR and LF are rare in text; NUL never occurs in UTF-8 or Windows-1252 text.
 */
export const sniffFile = (first: Uint8Array): FileSniff | undefined => {
  if ((first[0] === 0xff && first[1] === 0xfe) || (first[0] === 0xfe && first[1] === 0xff)) {
    return { code: 'utf-16', reason: 'the file is UTF-16 encoded; export it as CSV UTF-8' };
  }
  for (const signature of SIGNATURES) {
    if (signature.bytes.every((byte, index) => first[index] === byte)) {
      return { code: 'binary', reason: `the file is ${signature.what}, not a text file` };
    }
  }
  let control = 0;
  for (let i = 0; i < first.length; i++) {
    const byte = first[i]!;
    if (byte === 0) {
      return { code: 'binary', reason: `the file holds a NUL byte (offset ${i}): it is binary, not text` };
    }
    if ((byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) || byte === 0x7f) control++;
  }
  if (first.length > 0 && control / first.length > 0.01) {
    return {
      code: 'binary',
      reason: `${control} of the first ${first.length} bytes are control characters: the file is binary, not text`,
    };
  }
  return undefined;
};
