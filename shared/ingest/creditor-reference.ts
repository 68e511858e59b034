/** `RF`, two check digits, then 1 to 21 letters or digits (ISO 11649). */
const SHAPE = /^RF\d{2}[A-Z0-9]{1,21}$/;

/** Remainder mod 97 of the digits a reference stands for (A=10 ... Z=35), computed digit by digit. */
const mod97 = (text: string): number => {
  let remainder = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code <= 57) remainder = (remainder * 10 + (code - 48)) % 97;
    else remainder = (remainder * 100 + (code - 55)) % 97;
  }
  return remainder;
};

/**
 * True for a well-formed ISO 11649 creditor reference (upper case, no spaces): moving the first
 * four characters to the end, the number it stands for is 1 mod 97.
 */
export const isCreditorReference = (reference: string): boolean =>
  SHAPE.test(reference) && mod97(reference.slice(4) + reference.slice(0, 4)) === 1;

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
    const compact = (text.includes(' ') || /\s/.test(text) ? text.replace(/\s+/g, '') : text).toUpperCase();
    if (isCreditorReference(compact)) return { reference: compact, structured: true };
  }
  return { reference: text, structured: false };
};
