import type { Contact } from '../domain/account/account';
import { ExternalId, IsoDate, TimeZone } from '../domain/ids';
import {
  AmountFormatError,
  CurrencyCode,
  currencyExponent,
  isActiveCurrency,
  parseAmount,
} from '../domain/money';
import type * as z from '../zod';
import { decodeByteText } from './byte-text';
import { isCountryCode } from './countries';
import { isCreditorReference, readReference } from './creditor-reference';
import { CustomerTable } from './customer-table';
import type { InvoiceField, InvoiceFormat } from './format';
import type { ColumnPlan } from './header';
import type { InvoiceRow } from './invoice-row';
import { PhoneNormaliser } from './phone-numbers';
import { isFormulaStart, startsLikeFormula } from './spreadsheet';
import { hashKey, hashRange } from './string-table';

/**
 * Row validation. Every rule has a fast path written for the common case (a row that passes) and
 * takes its wording and its edge cases from the zod schemas of the domain (`ExternalId`,
 * `IsoDate`, `CurrencyCode`, `TimeZone`, the e-mail regex of `Contact`): a row that passes here
 * passes `InvoiceRow.parse`, and a rejected field gets the schema's message. Running zod on every
 * row costs about 2 µs a row (measured), as much as the rest of parsing together; the fast paths
 * cost a fraction of that, and test/unit/ingest/row-rules.test.ts checks they agree with zod.
 */

export { loadPhoneRules, PhoneNormaliser } from './phone-numbers';

/** Values that mark a row as a credit note in `type` (case-insensitive); empty means invoice. */
export const CREDIT_NOTE_TYPES = ['credit_note', 'credit note', 'credit-note', 'creditnote', 'credit', 'cn'];
export const INVOICE_TYPES = ['invoice', 'inv'];
/** Values of `status`: empty means open. */
export const CANCELLED_STATUSES = ['cancelled', 'canceled'];
export const OPEN_STATUSES = ['open'];

export interface FieldProblem {
  field: InvoiceField;
  value: string;
  reason: string;
}

const SPACES = /\s{2,}|[\t\n\r\f\v\u00a0]/;
const MAX_NAME = 200;
const NO_VALUES: readonly string[] = [];
/** The problems of most contacts: one shared empty list rather than one per customer. */
const NO_PROBLEMS: readonly FieldProblem[] = Object.freeze([]);
const MAX_REFERENCE = 140;

/**
 * A copy of a string that keeps nothing else alive. Strings cut from a decoded chunk point into
 * it; a cache that kept them would keep every chunk of the file (the whole file) in memory.
 */
export const detach = (value: string): string => (value.length < 13 ? value : ` ${value}`.slice(1));

/** `toLowerCase` without the ICU round trip for the usual ASCII value that is lower case already. */
const asciiLower = (value: string): string => {
  const length = value.length;
  for (let i = 0; i < length; i++) {
    const code = value.charCodeAt(i);
    if ((code >= 65 && code <= 90) || code > 127) return value.toLowerCase();
  }
  return value;
};

/**
 * The e-mail rule of zod (`z.regexes.email`, which `Contact.email` uses) as a scan, for the fast
 * path: local part of [A-Za-z0-9_'+-] in dot-separated runs, not ending in a dot or apostrophe;
 * a domain of labels that start with a letter or digit, and a final label of two or more letters.
 * test/unit/ingest/row-rules.test.ts checks it against the regex.
 */
export const isEmail = (value: string): boolean => {
  const at = value.indexOf('@');
  if (at < 1 || at !== value.lastIndexOf('@')) return false;
  let previous = 46; // as if after a dot: the local part may not start with one
  for (let i = 0; i < at; i++) {
    const code = value.charCodeAt(i);
    if (code === 46) {
      if (previous === 46) return false;
    } else if (!isLocalChar(code)) return false;
    previous = code;
  }
  if (previous === 46 || previous === 39) return false;
  let labelStart = at + 1;
  let labels = 0;
  const length = value.length;
  for (let i = at + 1; i <= length; i++) {
    const code = i < length ? value.charCodeAt(i) : 46;
    if (code !== 46) {
      if (!isAlnum(code) && code !== 45) return false;
      continue;
    }
    if (i === labelStart || !isAlnum(value.charCodeAt(labelStart))) return false;
    labels++;
    if (i === length) {
      if (labels < 2 || i - labelStart < 2) return false;
      for (let k = labelStart; k < i; k++) if (!isLetter(value.charCodeAt(k))) return false;
    }
    labelStart = i + 1;
  }
  return true;
};

const isLetter = (code: number): boolean => (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
const isAlnum = (code: number): boolean => isLetter(code) || (code >= 48 && code <= 57);
const isLocalChar = (code: number): boolean =>
  isAlnum(code) || code === 95 || code === 39 || code === 43 || code === 45;

const zodMessage = (schema: z.ZodMiniType, value: string, fallback: string): string => {
  const result = schema.safeParse(value);
  return result.success ? fallback : (result.error.issues[0]?.message ?? fallback);
};

const formulaReason = (value: string): string => {
  const first = value[0] === '\t' ? 'a tab' : value[0] === '\r' ? 'a carriage return' : `"${value[0]}"`;
  return `starts with ${first}, which a spreadsheet would run as a formula: remove that character`;
};

/**
 * The `ExternalId` rule for a trimmed value, without a regex: 1-128 characters, no `#`, no
 * control character (\p{Cc}). Trimming already removed leading whitespace.
 */
export const isExternalId = (value: string): boolean => isExternalIdAt(value, 0, value.length);

/**
 * {@link isExternalId} for `text.slice(start, end)`, without cutting it out. With `highest`, also
 * false for a character above it (126 for byte text: there only ASCII stands for itself).
 */
export const isExternalIdAt = (text: string, start: number, end: number, highest = 0xffff): boolean => {
  const length = end - start;
  if (length <= 0 || length > 128) return false;
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code === 35 || code < 32 || (code >= 127 && code <= 159) || code > highest) return false;
  }
  return true;
};

/**
 * Free text (a name, a reference) as we keep it: runs of whitespace and line breaks folded into
 * one space. Undefined when it holds a control character other than tab, CR or LF.
 */
export const cleanText = (value: string): string | undefined => {
  let fold = false;
  let previousSpace = false;
  const length = value.length;
  for (let i = 0; i < length; i++) {
    const code = value.charCodeAt(i);
    if (code === 32) {
      if (previousSpace) fold = true;
      previousSpace = true;
      continue;
    }
    previousSpace = false;
    if (code < 32) {
      if (code !== 9 && code !== 10 && code !== 13) return undefined;
      fold = true;
    } else if (code >= 127) {
      if (code <= 159) return undefined;
      fold = true; // may be a Unicode space: the regex decides
    }
  }
  return fold && SPACES.test(value) ? value.replace(/\s+/g, ' ') : value;
};

/**
 * `parseAmount` for the usual case, without a regex or string building: an optional sign,
 * digits, the separator and at most `exponent` decimals, fifteen digits at most. Undefined for
 * anything else, which then goes to `parseAmount` for its verdict and message.
 */
export const quickAmount = (text: string, exponent: number, separator: number): number | undefined =>
  quickAmountAt(text, 0, text.length, exponent, separator);

/** {@link quickAmount} for `text.slice(start, end)`, without cutting it out. */
export const quickAmountAt = (
  text: string,
  start: number,
  end: number,
  exponent: number,
  separator: number,
): number | undefined => {
  const length = end - start;
  if (length <= 0 || length > 16) return undefined;
  let i = start;
  let negative = false;
  const first = text.charCodeAt(start);
  if (first === 45 || first === 43) {
    negative = first === 45;
    i++;
  }
  let value = 0;
  let digits = 0;
  let decimals = -1;
  for (; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code >= 48 && code <= 57) {
      value = value * 10 + (code - 48);
      digits++;
      if (decimals >= 0) decimals++;
    } else if (code === separator && decimals < 0 && digits > 0) decimals = 0;
    else return undefined;
  }
  if (digits === 0 || decimals > exponent) return undefined;
  for (let k = Math.max(decimals, 0); k < exponent; k++) value *= 10;
  if (value > Number.MAX_SAFE_INTEGER) return undefined;
  return negative && value !== 0 ? -value : value;
};

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isLeap = (year: number): boolean => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
const MIN_YEAR = 1900;
const MAX_YEAR = 2199;

const digitsAt = (text: string, start: number, length: number): number => {
  let value = 0;
  for (let i = start; i < start + length; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
};

const pad2 = (value: number): string => (value < 10 ? `0${value}` : String(value));

type DateResult = string | { reason: string };

const checkCalendar = (year: number, month: number, day: number, iso: string): DateResult => {
  if (
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > (month === 2 && isLeap(year) ? 29 : DAYS_IN_MONTH[month - 1]!)
  ) {
    return { reason: zodMessage(IsoDate, iso, 'is not a real calendar date') };
  }
  if (year < MIN_YEAR || year > MAX_YEAR)
    return { reason: `has the year ${year}, outside ${MIN_YEAR}-${MAX_YEAR}` };
  return iso;
};

/**
 * A `YYYY-MM-DD` date in `text.slice(start, end)` that the reader of that format accepts, as the
 * number YYYYMMDD (so dates compare as numbers); -1 for anything else.
 */
export const isoDateAt = (text: string, start: number, end: number): number => {
  if (end - start !== 10 || text.charCodeAt(start + 4) !== 45 || text.charCodeAt(start + 7) !== 45) return -1;
  const year = digitsAt(text, start, 4);
  const month = digitsAt(text, start + 5, 2);
  const day = digitsAt(text, start + 8, 2);
  if (year < MIN_YEAR || year > MAX_YEAR || month < 1 || month > 12 || day < 1) return -1;
  if (day > (month === 2 && isLeap(year) ? 29 : DAYS_IN_MONTH[month - 1]!)) return -1;
  return year * 10_000 + month * 100 + day;
};

/** A date reader for one of the formats a tenant may configure; returns ISO `YYYY-MM-DD`. */
export const dateReader = (format: InvoiceFormat['dateFormat']): ((text: string) => DateResult) => {
  if (format === 'YYYY-MM-DD') {
    return (text) => {
      const year = text.length === 10 && text[4] === '-' && text[7] === '-' ? digitsAt(text, 0, 4) : -1;
      const month = year < 0 ? -1 : digitsAt(text, 5, 2);
      const day = month < 0 ? -1 : digitsAt(text, 8, 2);
      if (day < 0) return { reason: 'must be a date written YYYY-MM-DD' };
      return checkCalendar(year, month, day, text);
    };
  }
  const separator = format === 'DD.MM.YYYY' ? '.' : '/';
  const dayFirst = format !== 'MM/DD/YYYY';
  const pattern = new RegExp(`^(\\d{1,2})\\${separator}(\\d{1,2})\\${separator}(\\d{4})$`);
  return (text) => {
    const match = pattern.exec(text);
    if (!match) return { reason: `must be a date written ${format}` };
    const first = Number(match[1]);
    const second = Number(match[2]);
    const year = Number(match[3]);
    const [day, month] = dayFirst ? [first, second] : [second, first];
    return checkCalendar(year, month, day, `${match[3]}-${pad2(month)}-${pad2(day)}`);
  };
};

type Normalised = string | { reason: string };

/** IANA zones, canonicalised (`europe/berlin` → `Europe/Berlin`) and cached: the check costs ~20 µs. */
class TimeZones {
  private readonly cache = new Map<string, Normalised>();

  normalise(text: string): Normalised {
    let result = this.cache.get(text);
    if (result === undefined) {
      const verdict = TimeZone.safeParse(text);
      if (verdict.success) {
        result = new Intl.DateTimeFormat('en', { timeZone: text }).resolvedOptions().timeZone;
      } else {
        result = { reason: verdict.error.issues[0]?.message ?? 'is not an IANA time zone' };
      }
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(detach(text), result);
    }
    return result;
  }
}

/**
 * True when `text.slice(start, end)` is printable ASCII without two spaces in a row: text that
 * `cleanText` leaves as it is.
 */
const isPlainText = (text: string, start: number, end: number): boolean => {
  let previous = 0;
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code < 32 || code > 126 || (code === 32 && previous === 32)) return false;
    previous = code;
  }
  return true;
};

/** The digit at `text[index]`, or -100,000 for anything else. */
const digitAt = (text: string, index: number): number => {
  const digit = text.charCodeAt(index) - 48;
  return digit >= 0 && digit <= 9 ? digit : -100_000;
};

/**
 * {@link isoDateAt} as a day number, `(year - 1900) * 372 + (month - 1) * 31 + day - 1`, for a
 * table of the ISO strings already seen; -1 for anything else.
 */
export const isoDaySlotAt = (text: string, start: number, end: number): number => {
  if (end - start !== 10 || text.charCodeAt(start + 4) !== 45 || text.charCodeAt(start + 7) !== 45) return -1;
  // Every row carries two dates: the digits are read unrolled (a non-digit makes the value
  // negative, out of every range below).
  const year =
    digitAt(text, start) * 1000 +
    digitAt(text, start + 1) * 100 +
    digitAt(text, start + 2) * 10 +
    digitAt(text, start + 3);
  const month = digitAt(text, start + 5) * 10 + digitAt(text, start + 6);
  const day = digitAt(text, start + 8) * 10 + digitAt(text, start + 9);
  if (year < MIN_YEAR || year > MAX_YEAR || month < 1 || month > 12 || day < 1) return -1;
  if (day > (month === 2 && isLeap(year) ? 29 : DAYS_IN_MONTH[month - 1]!)) return -1;
  return (year - MIN_YEAR) * 372 + (month - 1) * 31 + day - 1;
};

/**
 * True when `text.slice(start, end)` is not empty and starts and ends with printable ASCII other
 * than a space: trimming leaves it as it is, and it starts with no tab or carriage return.
 */
const plainEnds = (text: string, start: number, end: number): boolean => {
  if (end <= start) return false;
  const first = text.charCodeAt(start);
  const last = text.charCodeAt(end - 1);
  return first > 32 && first < 127 && last > 32 && last < 127;
};

/**
 * What `identifier` checks, on a range: plain ends, not like a formula, an ExternalId; in byte
 * text, ASCII only (an id kept as a string must be decoded text: others take the string path).
 */
const isPlainIdAt = (text: string, start: number, end: number, byteText: boolean): boolean =>
  plainEnds(text, start, end) &&
  !isFormulaStart(text.charCodeAt(start)) &&
  isExternalIdAt(text, start, end, byteText ? 126 : 0xffff);

const countryReason = (code: string): string =>
  code === 'UK'
    ? 'is not an ISO 3166 country code: the United Kingdom is GB'
    : 'is not an ISO 3166 alpha-2 country code (two letters, such as DE)';

/**
 * A valid row. A class, not an object literal, for the same reason as the batches of
 * `parseInvoiceFile`: V8 may "pretenure" what a literal allocates, and a million rows that each
 * live for one batch would then fill the old generation.
 */
class ValidRow implements InvoiceRow {
  declare reference?: string;

  constructor(
    public line: number,
    public customerId: string,
    public contact: Contact,
    public invoiceId: string,
    public kind: InvoiceRow['kind'],
    public status: InvoiceRow['status'],
    public currency: string,
    public amount: number,
    public issueDate: string,
    public dueDate: string,
    public referenceStructured: boolean,
    reference: string | undefined,
  ) {
    // Only when there is one, as the schema has it (optional, never undefined).
    if (reference !== undefined) this.reference = reference;
  }
}

/** For `contact`: the customer is still to be looked up. */
const LOOK_UP = -2;

/** Customers whose last contact reading is kept; beyond it, contacts are read row by row. */
const MAX_REMEMBERED_CUSTOMERS = 100_000;

/** Positions (in FIELDS order) of the contact fields: name, e-mail, phone, country, time zone. */
const CONTACT_POSITIONS = [1, 2, 3, 4, 5] as const;

/** ISO dates by day: `(year - MIN_YEAR) * 372 + (month - 1) * 31 + day - 1`. */
const DAY_SLOTS = (MAX_YEAR - MIN_YEAR + 1) * 372;

/**
 * Reads and checks rows of one file. Construct once per file: it holds the compiled rules and
 * the per-file caches. Await {@link loadPhoneRules} once before reading rows.
 *
 * Contact fields are checked once per customer while they repeat: a customer's rows carry the
 * same name, e-mail and phone, and checking them (an e-mail scan, a phone number parse of
 * 3-20 µs) on every row would cost more than everything else. The last reading per customer id
 * is kept (up to 100,000 customers, see `CustomerTable`) and reused while the row's raw values
 * are equal to the ones it was read from.
 *
 * Two ways in: `read` takes a record as strings and is the reference; `readRanges` takes a CSV
 * record as ranges of the decoded text and only answers for a row that is plainly valid, reading
 * its amount, dates, currency and contact in place (no string cut out, most of the per-row cost).
 * It applies the same rules through the same helpers, and hands anything unusual (a problem, a
 * space around a value, an amount only `parseAmount` can judge...) back to `read`: see
 * `readRanges`. test/unit/ingest/row-rules.test.ts checks the two agree.
 */
export class InvoiceRowRules {
  private readonly phones = new PhoneNormaliser();
  private readonly zones = new TimeZones();
  private readonly readDate: (text: string) => DateResult;
  private readonly isoDates: boolean;
  private readonly decimalSeparator: '.' | ',';
  private readonly separatorCode: number;
  private readonly defaultCountry: string | undefined;
  private readonly at: number[];
  /** The columns of the contact fields (`at` at CONTACT_POSITIONS). */
  private readonly contactColumns: number[];
  /**
   * Remembered customers: the table finds a customer's number by its id and holds the raw
   * contact values of its latest reading; by number, its id (one string shared by all its
   * rows), the contact read from those values and their problems.
   */
  readonly customers = new CustomerTable(1024);
  /**
   * Per customer number n: its id at 2n, its contact at 2n + 1 (undefined when a field is
   * wrong). One array, so a row that names the customer reads one place for both.
   */
  private readonly known: (string | Contact | undefined)[] = [];
  private readonly contactProblems: (readonly FieldProblem[])[] = [];
  /** ISO dates by day (see DAY_SLOTS) and currency codes by their three characters: rows share them. */
  private readonly dates: (string | undefined)[] = new Array(DAY_SLOTS);
  private readonly currencies = new Map<number, string | null>();
  /** Values of the contact columns for `contact` on the range path (other columns undefined). */
  private readonly contactValues: (string | undefined)[];
  /** The raw contact values of the row being read, in CONTACT_POSITIONS order. */
  private readonly rawContact: (string | undefined)[] = [
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
  ];
  private readonly noProblems: FieldProblem[] = [];
  private values: readonly (string | undefined)[] = NO_VALUES;
  private problems: FieldProblem[] = [];
  /** The contact of the row read last; undefined when one of its contact fields is wrong. */
  lastContact: Contact | undefined;
  /**
   * The slot in `customers` of the customer of the row read last, when it is remembered (the
   * first 100,000 customers); -1 otherwise. Valid until the next row is read.
   */
  lastSlot = -1;

  constructor(format: InvoiceFormat, plan: ColumnPlan) {
    this.readDate = dateReader(format.dateFormat);
    this.isoDates = format.dateFormat === 'YYYY-MM-DD';
    this.decimalSeparator = format.decimalSeparator;
    this.separatorCode = format.decimalSeparator.charCodeAt(0);
    this.defaultCountry = format.defaultCountry;
    this.at = [...plan.index];
    this.contactColumns = CONTACT_POSITIONS.map((position) => plan.index[position]!);
    this.contactValues = new Array(Math.max(0, ...plan.index) + 1).fill(undefined);
  }

  /**
   * Checks one record (values by the plan's column positions). Returns the normalised row, or
   * undefined after adding every problem found to `problems`.
   */
  read(
    values: readonly (string | undefined)[],
    line: number,
    problems: FieldProblem[],
  ): InvoiceRow | undefined {
    this.values = values;
    this.problems = problems;
    const before = problems.length;

    // Positions follow FIELDS (the InvoiceField enum order).
    const customerId = this.identifier('customerId', this.required('customerId', 0));
    for (const problem of this.contact(customerId)) problems.push(problem);
    const contact = this.lastContact;

    const invoiceId = this.identifier('invoiceId', this.required('invoiceId', 6));

    let kind: InvoiceRow['kind'] | undefined = 'invoice';
    const type = this.optional('type', 7);
    if (type !== undefined) kind = this.kind(type);

    let status: InvoiceRow['status'] | undefined = 'open';
    const statusText = this.optional('status', 8);
    if (statusText !== undefined) status = this.status(statusText);

    let currency = this.required('currency', 9);
    if (currency !== undefined) {
      if (!isActiveCurrency(currency)) {
        const upper = currency.toUpperCase();
        currency = isActiveCurrency(upper)
          ? upper
          : this.problem(
              'currency',
              currency,
              zodMessage(CurrencyCode, upper, 'is not an active ISO 4217 currency'),
            );
      }
    }

    const amountText = this.required('amount', 10);
    let amount: number | undefined;
    if (amountText !== undefined && currency !== undefined) amount = this.amount(amountText, currency, kind);

    const issueText = this.required('issueDate', 11);
    const dueText = this.required('dueDate', 12);
    const issueDate = issueText === undefined ? undefined : this.date('issueDate', issueText);
    let dueDate = dueText === undefined ? undefined : this.date('dueDate', dueText);
    if (issueDate !== undefined && dueDate !== undefined && dueDate < issueDate) {
      dueDate = this.problem('dueDate', dueText!, `is before the issue date ${issueDate}`);
    }

    let reference: string | undefined;
    let referenceStructured = false;
    const referenceText = this.text('reference', this.optional('reference', 13), MAX_REFERENCE);
    if (referenceText !== undefined) {
      const read = readReference(referenceText);
      reference = read.reference;
      referenceStructured = read.structured;
    }

    this.values = NO_VALUES;
    if (problems.length > before) return undefined;
    return new ValidRow(
      line,
      this.lastSlot >= 0 ? this.idOf(this.lastSlot) : customerId!,
      contact!,
      invoiceId!,
      kind!,
      status!,
      currency!,
      amount!,
      issueDate!,
      dueDate!,
      referenceStructured,
      reference,
    );
  }

  /**
   * `read` for a CSV record given as ranges (field k of the file is `text.slice(starts[k],
   * ends[k])`), for the common case only: returns the row `read` would return for the same
   * values, or undefined when the row is not plainly valid, and then the caller must use `read`
   * (which finds and words the problems). "Plainly valid" adds to the rules: every value given
   * starts and ends with printable ASCII other than a space (so trimming changes nothing); the
   * amount needs no more than the quick path of `parseAmount`; a reference is printable ASCII
   * without double spaces. The record must have as many fields as the header (the caller checks).
   *
   * With `byteText`, `text` is byte text (see byte-text.ts): the ASCII checks read it as it is
   * (a byte of a multi-byte character fails them, and the row goes to `read`), ids must be ASCII,
   * contact values are compared in decoded form, and text kept as a string is decoded first.
   */
  readRanges(
    text: string,
    starts: Int32Array,
    ends: Int32Array,
    line: number,
    byteText = false,
    idHash = this.idHash(text, starts, ends),
  ): InvoiceRow | undefined {
    const at = this.at;
    const problems = this.noProblems;
    // (Setting an array's length is a runtime call: skip it when there is nothing to clear.)
    if (problems.length > 0) problems.length = 0;
    this.problems = problems;

    // Customer id and contact: a known customer's id is found and its contact compared in place.
    const idColumn = at[0]!;
    if (idColumn < 0) return undefined;
    const idStart = starts[idColumn]!;
    const idEnd = ends[idColumn]!;
    if (!isPlainIdAt(text, idStart, idEnd, byteText)) return undefined;
    const customers = this.customers;
    const slot = customers.findAt(text, idStart, idEnd, idHash);
    let customerId: string;
    let contact: Contact | undefined;
    // The customer's id and contact are read before its key is compared, so that the two
    // reads from memory overlap.
    const customer = slot >= 0 ? customers.customerAt(slot) * 2 : -1;
    const knownId = customer >= 0 ? this.known[customer] : undefined;
    const knownContact = customer >= 0 ? this.known[customer + 1] : undefined;
    if (
      slot >= 0 &&
      (byteText
        ? customers.keyMatchesByteRanges(slot, text, starts, ends, this.contactColumns)
        : customers.keyMatchesRanges(slot, text, starts, ends, this.contactColumns))
    ) {
      customerId = knownId as string;
      contact = knownContact as Contact | undefined;
      this.lastSlot = slot;
    } else {
      const values = this.contactValues;
      for (const column of this.contactColumns) {
        if (column >= 0) values[column] = this.cut(text, starts[column]!, ends[column]!, byteText);
      }
      this.values = values;
      const id = slot >= 0 ? this.idOf(slot) : text.slice(idStart, idEnd);
      // (The customer was looked up already: `slot`, found or not.)
      this.contact(id, idHash, slot);
      this.values = NO_VALUES;
      customerId = this.lastSlot >= 0 ? this.idOf(this.lastSlot) : id;
      contact = this.lastContact;
    }
    this.lastContact = contact;
    if (contact === undefined) return undefined;

    const invoiceColumn = at[6]!;
    if (invoiceColumn < 0) return undefined;
    const invoiceStart = starts[invoiceColumn]!;
    const invoiceEnd = ends[invoiceColumn]!;
    if (!isPlainIdAt(text, invoiceStart, invoiceEnd, byteText)) return undefined;
    const invoiceId = text.slice(invoiceStart, invoiceEnd);

    let kind: InvoiceRow['kind'] | undefined = 'invoice';
    const typeColumn = at[7]!;
    if (typeColumn >= 0 && ends[typeColumn]! > starts[typeColumn]!) {
      if (!plainEnds(text, starts[typeColumn]!, ends[typeColumn]!)) return undefined;
      kind = this.kind(text.slice(starts[typeColumn]!, ends[typeColumn]!));
      if (kind === undefined) return undefined;
    }

    let status: InvoiceRow['status'] | undefined = 'open';
    const statusColumn = at[8]!;
    if (statusColumn >= 0 && ends[statusColumn]! > starts[statusColumn]!) {
      if (!plainEnds(text, starts[statusColumn]!, ends[statusColumn]!)) return undefined;
      status = this.status(text.slice(starts[statusColumn]!, ends[statusColumn]!));
      if (status === undefined) return undefined;
    }

    const currencyColumn = at[9]!;
    if (currencyColumn < 0) return undefined;
    const currency = this.currencyAt(text, starts[currencyColumn]!, ends[currencyColumn]!);
    if (currency === undefined) return undefined;

    const amountColumn = at[10]!;
    if (amountColumn < 0) return undefined;
    let amount = quickAmountAt(
      text,
      starts[amountColumn]!,
      ends[amountColumn]!,
      currencyExponent(currency),
      this.separatorCode,
    );
    if (amount === undefined || amount === 0) return undefined;
    if (amount < 0) {
      if (kind !== 'credit_note') return undefined;
      amount = -amount;
    }

    const issueDate = this.dateAt(text, starts, ends, at[11]!);
    const dueDate = this.dateAt(text, starts, ends, at[12]!);
    if (issueDate === undefined || dueDate === undefined || dueDate < issueDate) return undefined;

    let reference: string | undefined;
    let referenceStructured = false;
    const referenceColumn = at[13]!;
    if (referenceColumn >= 0 && ends[referenceColumn]! > starts[referenceColumn]!) {
      const start = starts[referenceColumn]!;
      const end = ends[referenceColumn]!;
      if (!plainEnds(text, start, end) || isFormulaStart(text.charCodeAt(start))) return undefined;
      if (isPlainText(text, start, end)) {
        // `text` would leave it as it is; `readReference` keeps it unless it starts with "RF".
        if (end - start > MAX_REFERENCE) return undefined;
        reference = text.slice(start, end);
        if ((text.charCodeAt(start) | 32) === 114 && (text.charCodeAt(start + 1) | 32) === 102) {
          if (isCreditorReference(reference)) referenceStructured = true;
          else {
            const read = readReference(reference);
            reference = read.reference;
            referenceStructured = read.structured;
          }
        }
      } else {
        const referenceText = this.text('reference', this.cut(text, start, end, byteText), MAX_REFERENCE);
        if (referenceText === undefined) return undefined;
        const read = readReference(referenceText);
        reference = read.reference;
        referenceStructured = read.structured;
      }
    }

    if (problems.length > 0) return undefined;
    return new ValidRow(
      line,
      customerId,
      contact,
      invoiceId,
      kind,
      status,
      currency,
      amount,
      issueDate,
      dueDate,
      referenceStructured,
      reference,
    );
  }

  /** `text.slice(start, end)` as text: decoded when it is byte text. */
  private cut(text: string, start: number, end: number, byteText: boolean): string {
    return byteText ? decodeByteText(text, start, end) : text.slice(start, end);
  }

  /** `hashRange` of the customer id of a record given as ranges (anything when it has none). */
  idHash(text: string, starts: Int32Array, ends: Int32Array): number {
    const column = this.at[0]!;
    return column < 0 ? 0 : hashRange(text, starts[column]!, ends[column]!);
  }

  /** The id of the remembered customer at `slot` of `customers`. */
  private idOf(slot: number): string {
    return this.known[this.customers.customerAt(slot) * 2] as string;
  }

  /** The currency of a plainly valid row (shared strings), or undefined. */
  private currencyAt(text: string, start: number, end: number): string | undefined {
    if (end - start !== 3) return undefined;
    const a = text.charCodeAt(start);
    const b = text.charCodeAt(start + 1);
    const c = text.charCodeAt(start + 2);
    if ((a | b | c) > 127) return undefined;
    const key = (a << 16) | (b << 8) | c;
    let code = this.currencies.get(key);
    if (code === undefined) {
      // The same verdict as `read`: the code as written, else in upper case, else a problem.
      const written = text.slice(start, end);
      const upper = written.toUpperCase();
      code = isActiveCurrency(written) ? written : isActiveCurrency(upper) ? upper : null;
      this.currencies.set(key, code);
    }
    return code ?? undefined;
  }

  /** The ISO date of a plainly valid date field (shared strings), or undefined. */
  private dateAt(text: string, starts: Int32Array, ends: Int32Array, column: number): string | undefined {
    if (column < 0) return undefined;
    const start = starts[column]!;
    const end = ends[column]!;
    if (!this.isoDates) {
      if (!plainEnds(text, start, end)) return undefined;
      const result = this.readDate(text.slice(start, end));
      return typeof result === 'string' ? result : undefined;
    }
    const slot = isoDaySlotAt(text, start, end);
    if (slot < 0) return undefined;
    let iso = this.dates[slot];
    if (iso === undefined) {
      iso = detach(text.slice(start, end));
      this.dates[slot] = iso;
    }
    return iso;
  }

  private kind(type: string): InvoiceRow['kind'] | undefined {
    const key = asciiLower(type);
    if (CREDIT_NOTE_TYPES.includes(key)) return 'credit_note';
    if (INVOICE_TYPES.includes(key)) return 'invoice';
    return this.problem('type', type, 'must be "invoice" or "credit_note" (also read: "credit note", "CN")');
  }

  private status(status: string): InvoiceRow['status'] | undefined {
    const key = asciiLower(status);
    if (CANCELLED_STATUSES.includes(key)) return 'cancelled';
    if (OPEN_STATUSES.includes(key)) return 'open';
    return this.problem('status', status, 'must be "open" or "cancelled"');
  }

  /**
   * The contact of the row being read (`this.values`), for the customer `customerId`: the
   * remembered one while the raw values equal the ones it was read from, else read anew (and
   * remembered). Sets `lastContact` and `lastSlot`; returns the problems of the contact fields.
   * `hash` is the id's `hashKey` (equal to its `hashRange`); `lookedUp`, when the caller has
   * looked the id up already, its slot (-1: not found).
   */
  private contact(
    customerId: string | undefined,
    hash = customerId === undefined ? 0 : hashKey(customerId),
    lookedUp: number = LOOK_UP,
  ): readonly FieldProblem[] {
    const raw = this.rawContact;
    for (let k = 0; k < CONTACT_POSITIONS.length; k++) raw[k] = this.raw(CONTACT_POSITIONS[k]!);
    const customers = this.customers;
    let slot =
      lookedUp !== LOOK_UP ? lookedUp : customerId === undefined ? -1 : customers.findKey(customerId, hash);
    if (slot >= 0 && customers.keyMatchesValues(slot, raw)) {
      raw.fill(undefined);
      const customer = customers.customerAt(slot);
      this.lastSlot = slot;
      this.lastContact = this.known[customer * 2 + 1] as Contact | undefined;
      return this.contactProblems[customer]!;
    }
    const problems = this.problems;
    const mark = problems.length;
    const contact = this.readContact();
    const found =
      problems.length === mark
        ? NO_PROBLEMS
        : problems.splice(mark).map((problem) => ({ ...problem, value: detach(problem.value) }));
    this.lastContact = contact;
    if (slot >= 0) {
      // A new reading of a known customer: its later rows compare with this one.
      customers.setKey(slot, raw);
    } else if (customerId !== undefined && customers.size < MAX_REMEMBERED_CUSTOMERS) {
      slot = customers.add(customerId, hash, raw);
      this.known.push(detach(customerId), undefined);
      this.contactProblems.push(NO_PROBLEMS);
    }
    this.lastSlot = slot;
    if (slot >= 0) {
      const customer = customers.customerAt(slot);
      this.known[customer * 2 + 1] = contact;
      this.contactProblems[customer] = found;
    }
    // Not kept: a value cut from the text would keep its whole chunk alive.
    raw.fill(undefined);
    return found;
  }

  private readContact(): Contact | undefined {
    const before = this.problems.length;
    const name = this.text('customerName', this.required('customerName', 1), MAX_NAME);

    let email = this.optional('email', 2);
    if (email !== undefined) {
      if (startsLikeFormula(email)) email = this.problem('email', email, formulaReason(email));
      else {
        const lower = asciiLower(email);
        email = isEmail(lower)
          ? lower
          : this.problem('email', email, 'is not an e-mail address (name@example.com)');
      }
    }

    let country = this.optional('country', 4);
    const countryGiven = country !== undefined;
    if (country !== undefined && !isCountryCode(country)) {
      const upper = country.toUpperCase();
      country = isCountryCode(upper) ? upper : this.problem('country', country, countryReason(upper));
    }

    let phone = this.optional('phone', 3);
    if (phone !== undefined) {
      const first = phone.charCodeAt(0);
      if (first === 61 || first === 64 || first === 45)
        phone = this.problem('phone', phone, formulaReason(phone));
      else if (countryGiven && country === undefined) {
        // The country is wrong (already reported): the phone cannot be judged against it.
        phone = undefined;
      } else {
        const normalised = this.phones.normalise(phone, country ?? this.defaultCountry);
        phone = typeof normalised === 'string' ? normalised : this.problem('phone', phone, normalised.reason);
      }
    }

    let timeZone = this.optional('timeZone', 5);
    if (timeZone !== undefined) {
      const normalised = startsLikeFormula(timeZone)
        ? { reason: formulaReason(timeZone) }
        : this.zones.normalise(timeZone);
      timeZone =
        typeof normalised === 'string' ? normalised : this.problem('timeZone', timeZone, normalised.reason);
    }

    if (this.problems.length > before) return undefined;
    // Detached: the contact outlives the chunk (the customer's later rows share it).
    const contact: Contact = { name: detach(name!) };
    if (email !== undefined) contact.email = detach(email);
    if (phone !== undefined) contact.phone = phone;
    if (country !== undefined) contact.country = detach(country);
    if (timeZone !== undefined) contact.timeZone = timeZone;
    return contact;
  }

  private raw(position: number): string | undefined {
    const column = this.at[position]!;
    return column < 0 ? undefined : this.values[column];
  }

  private problem(field: InvoiceField, value: string, reason: string): undefined {
    this.problems.push({ field, value, reason });
    return undefined;
  }

  private required(field: InvoiceField, position: number): string | undefined {
    const value = this.raw(position);
    if (value === undefined) return this.problem(field, '', 'is missing: the column is empty');
    const trimmed = value.trim();
    if (trimmed === '') return this.problem(field, value, 'is missing: the column is empty');
    const first = value.charCodeAt(0);
    if (first === 9 || first === 13) return this.problem(field, value, formulaReason(value));
    return trimmed;
  }

  private optional(field: InvoiceField, position: number): string | undefined {
    const value = this.raw(position);
    if (value === undefined) return undefined;
    const trimmed = value.trim();
    if (trimmed === '') return undefined;
    const first = value.charCodeAt(0);
    if (first === 9 || first === 13) return this.problem(field, value, formulaReason(value));
    return trimmed;
  }

  private identifier(field: InvoiceField, value: string | undefined): string | undefined {
    if (value === undefined) return undefined;
    if (startsLikeFormula(value)) return this.problem(field, value, formulaReason(value));
    if (isExternalId(value)) return value;
    return this.problem(field, value, zodMessage(ExternalId, value, 'is not a valid identifier'));
  }

  private text(field: InvoiceField, value: string | undefined, max: number): string | undefined {
    if (value === undefined) return undefined;
    if (startsLikeFormula(value)) return this.problem(field, value, formulaReason(value));
    const clean = cleanText(value);
    if (clean === undefined) return this.problem(field, value, 'holds a control character; remove it');
    if (clean.length > max) return this.problem(field, value, `is longer than ${max} characters`);
    return clean;
  }

  private amount(text: string, currency: string, kind: InvoiceRow['kind'] | undefined): number | undefined {
    let amount = quickAmount(text, currencyExponent(currency), this.separatorCode);
    if (amount === undefined) {
      try {
        amount = parseAmount(text, currency, { decimalSeparator: this.decimalSeparator });
      } catch (error) {
        if (!(error instanceof AmountFormatError)) throw error;
        return this.problem('amount', text, amountReason(error.message, text, this.decimalSeparator));
      }
    }
    if (kind === undefined) return undefined;
    if (amount === 0) return this.problem('amount', text, 'is zero; a row must carry an amount');
    if (amount > 0) return amount;
    if (kind === 'credit_note') return -amount;
    return this.problem(
      'amount',
      text,
      'is negative, but the row is an invoice; mark credit notes as type "credit_note"',
    );
  }

  private date(field: InvoiceField, text: string): string | undefined {
    const result = this.readDate(text);
    return typeof result === 'string' ? result : this.problem(field, text, result.reason);
  }
}

const amountReason = (message: string, text: string, separator: '.' | ','): string => {
  const other = separator === '.' ? ',' : '.';
  if (/^[+-]?\d+[.,]\d+$/.test(text) && text.includes(other)) {
    return `"${text}" has "${other}", but this tenant's format uses "${separator}" as the decimal separator (and amounts carry no thousands separators)`;
  }
  const grouped =
    separator === '.' ? /^[+-]?\d{1,3}([,' ]\d{3})+(\.\d+)?$/ : /^[+-]?\d{1,3}([.' ]\d{3})+(,\d+)?$/;
  if (grouped.test(text)) {
    return `"${text}" has a thousands separator; write the amount without it (such as ${text.replace(/[.,' ](?=\d{3}(\D|$))/g, '')})`;
  }
  return message;
};
