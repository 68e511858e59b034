const isDigit = (code: number): boolean => code >= 48 && code <= 57;

/** `RF`, two check digits, then 1 to 21 letters or digits (ISO 11649). */
const hasShape = (reference: string): boolean => {
  const length = reference.length;
  if (length < 5 || length > 25 || reference.charCodeAt(0) !== 82 || reference.charCodeAt(1) !== 70)
    return false;
  if (!isDigit(reference.charCodeAt(2)) || !isDigit(reference.charCodeAt(3))) return false;
  for (let i = 4; i < length; i++) {
    const code = reference.charCodeAt(i);
    if (!isDigit(code) && (code < 65 || code > 90)) return false;
  }
  return true;
};

/**
 * Remainder mod 97 of the number `text.slice(start, end)` stands for (A=10 ... Z=35), computed
 * digit by digit, going on from `remainder`.
 */
const mod97 = (text: string, start = 0, end = text.length, remainder = 0): number => {
  let result = remainder;
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code <= 57) result = (result * 10 + (code - 48)) % 97;
    else result = (result * 100 + (code - 55)) % 97;
  }
  return result;
};

/**
 * True for a well-formed ISO 11649 creditor reference (upper case, no spaces): moving the first
 * four characters to the end, the number it stands for is 1 mod 97. (Computed in place: half of
 * all invoice rows may carry one.)
 */
export const isCreditorReference = (reference: string): boolean =>
  hasShape(reference) && mod97(reference, 0, 4, mod97(reference, 4)) === 1;

/** The check digits that make `RF??body` valid: for building references and test data. */
export const creditorReference = (body: string): string => {
  const upper = body.toUpperCase();
  const check = 98 - mod97(`${upper}RF00`);
  return `RF${String(check).padStart(2, '0')}${upper}`;
};

export interface ReadReference {
  reference: string;
  /** True when the reference is a creditor reference with correct check digits. */
  structured: boolean;
}

/**
 * A payment reference as printed on the invoice. Something that looks like a creditor reference
 * (`RF…`, spaces allowed, any case) and has correct check digits is kept in its electronic form
 * (upper case, no spaces) and marked `structured`. One with wrong check digits is not refused (the
 * invoice is still owed) but stays free text as written: matching must never trust it.
 */
export const readReference = (text: string): ReadReference => {
  if (text.length >= 5 && (text.charCodeAt(0) | 32) === 114 && (text.charCodeAt(1) | 32) === 102) {
    // Written in electronic form already: the usual case, with no string built.
    if (isCreditorReference(text)) return { reference: text, structured: true };
    const compact = (text.includes(' ') || /\s/.test(text) ? text.replace(/\s+/g, '') : text).toUpperCase();
    if (isCreditorReference(compact)) return { reference: compact, structured: true };
  }
  return { reference: text, structured: false };
};
