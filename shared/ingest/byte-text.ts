/**
 * Byte text: the bytes of well-formed UTF-8 held in a string one character per byte (the bytes
 * read as Latin-1), so that character positions are byte offsets.
 *
 * Why: an invoice export mixes ASCII with a few accented names ("Müller GmbH"); decoding it gives
 * V8 two-byte strings for every chunk that holds one accented letter, which costs a UTF-8 decode
 * per chunk and then twice the memory traffic in every later scan, hash, compare and copy. Read as
 * Latin-1 the same bytes become a one-byte string in what is nearly a copy. CSV tokenizing needs
 * no decoding: the delimiter, the quote and the line breaks are ASCII, and every byte of a
 * multi-byte UTF-8 character is 0x80 or above, so scanning for them finds the same places. Fields
 * that must be ASCII (dates, amounts, currency codes, ids on the fast path) are checked as they
 * are; only text that leaves the parser as a string (a name, a reference, a reject's value or
 * excerpt, a header) is decoded, with {@link decodeByteText}.
 *
 * Invariants the users rely on: byte text only ever holds well-formed UTF-8 (the decoder hands
 * out decoded text instead from the first malformed byte on, see `InvoiceTextDecoder`), and a
 * piece of it never ends inside a character. Limits that count characters (longest row, longest
 * header line) must count the decoded UTF-16 code units: {@link byteTextLength}.
 */

/** U+FFFD (the replacement character) as byte text: its UTF-8 bytes EF BF BD. */
export const BYTE_TEXT_REPLACEMENT = '\u00ef\u00bf\u00bd';

/** The bytes as byte text (nearly a copy: each byte becomes one character of a one-byte string). */
export const toByteText = (bytes: Buffer): string => bytes.toString('latin1');

/** True when `view.slice(start, end)` holds only ASCII: byte text and decoded text then agree. */
export const isAsciiAt = (view: string, start: number, end: number): boolean => {
  for (let i = start; i < end; i++) if (view.charCodeAt(i) > 0x7f) return false;
  return true;
};

/**
 * The text that `view.slice(start, end)` of byte text stands for. ASCII comes back as it is (no
 * copy); anything else is decoded as UTF-8 (a range cut inside a character ends in U+FFFD).
 */
export const decodeByteText = (view: string, start = 0, end = view.length): string => {
  if (isAsciiAt(view, start, end)) return start === 0 && end === view.length ? view : view.slice(start, end);
  return Buffer.from(view.slice(start, end), 'latin1').toString('utf8');
};

/**
 * The length in UTF-16 code units of the text `view.slice(start, end)` of byte text stands for:
 * one per character, two for a character beyond U+FFFF (a four-byte sequence, such as an emoji).
 * Never more than `end - start`.
 */
export const byteTextLength = (view: string, start: number, end: number): number => {
  let length = 0;
  for (let i = start; i < end; i++) {
    const byte = view.charCodeAt(i);
    // A continuation byte adds nothing; a four-byte sequence's lead adds two.
    if (byte < 0x80 || byte >= 0xc0) length += byte >= 0xf0 ? 2 : 1;
  }
  return length;
};
