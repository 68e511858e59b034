import type { parsePhoneNumberFromString } from 'libphonenumber-js/min';
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
import { isCountryCode } from './countries';
import { isCreditorReference, readReference } from './creditor-reference';
import type { InvoiceField, InvoiceFormat } from './format';
import type { ColumnPlan } from './header';
import type { InvoiceRow } from './invoice-row';
import { isFormulaStart, startsLikeFormula } from './spreadsheet';
import { StringTable } from './string-table';

/**
 * Row validation. Every rule has a fast path written for the common case (a row that passes) and
 * takes its wording and its edge cases from the zod schemas of the domain (`ExternalId`,
 * `IsoDate`, `CurrencyCode`, `TimeZone`, the e-mail regex of `Contact`): a row that passes here
 * passes `InvoiceRow.parse`, and a rejected field gets the schema's message. Running zod on every
 * row costs about 2 µs a row (measured), as much as the rest of parsing together; the fast paths
 * cost a fraction of that, and test/unit/ingest/row-rules.test.ts checks they agree with zod.
 */

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
  for (let i = 0; i < value.length; i++) {
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
  for (let i = at + 1; i <= value.length; i++) {
    const code = i < value.length ? value.charCodeAt(i) : 46;
    if (code !== 46) {
      if (!isAlnum(code) && code !== 45) return false;
      continue;
    }
    if (i === labelStart || !isAlnum(value.charCodeAt(labelStart))) return false;
    labels++;
    if (i === value.length) {
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

/** {@link isExternalId} for `text.slice(start, end)`, without cutting it out. */
export const isExternalIdAt = (text: string, start: number, end: number): boolean => {
  const length = end - start;
  if (length <= 0 || length > 128) return false;
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code === 35 || code < 32 || (code >= 127 && code <= 159)) return false;
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
  for (let i = 0; i < value.length; i++) {
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

let parsePhone: typeof parsePhoneNumberFromString | undefined;

/**
 * Loads libphonenumber-js (its code and metadata are the largest part of the ingest bundle, ~120
 * KB): imported dynamically so that starting a function that bundles this module does not pay
 * for it, only reading a file does. Await it once before reading rows (`parseInvoiceFile` does).
 */
export const loadPhoneRules = async (): Promise<void> => {
  parsePhone ??= (await import('libphonenumber-js/min')).parsePhoneNumberFromString;
};

/**
 * E.164 phone numbers via libphonenumber-js with its `min` metadata: it checks length and number
 * plan per country (`max` adds number-type patterns and costs 1.6x more; nothing here needs the
 * type). A parse costs 3-10 µs, so results are cached per (country, text): a customer's rows
 * repeat the same number.
 */
export class PhoneNormaliser {
  private readonly cache = new Map<string, Map<string, Normalised>>();
  private entries = 0;

  constructor(private readonly maxEntries = 20_000) {}

  normalise(text: string, country: string | undefined): Normalised {
    const key = country ?? '';
    let byText = this.cache.get(key);
    if (byText === undefined) {
      byText = new Map();
      this.cache.set(key, byText);
    }
    let result = byText.get(text);
    if (result === undefined) {
      result = this.parse(text, country);
      if (this.entries >= this.maxEntries) {
        this.cache.clear();
        this.entries = 0;
        byText = new Map();
        this.cache.set(key, byText);
      }
      byText.set(detach(text), result);
      this.entries++;
    }
    return result;
  }

  private parse(text: string, country: string | undefined): Normalised {
    if (parsePhone === undefined) throw new Error('phone rules not loaded: await loadPhoneRules() first');
    const number = parsePhone(text, {
      // biome-ignore lint/suspicious/noExplicitAny: the country was checked against ISO 3166 already
      defaultCountry: country as any,
      extract: false,
    });
    if (!number) {
      if (!text.startsWith('+') && country === undefined) {
        return {
          reason: 'is written in national form but the row names no country: write it as +<country code>…',
        };
      }
      return { reason: 'is not a phone number' };
    }
    if (!number.isValid()) {
      return {
        reason: `is not a valid phone number${number.country ? ` for ${number.country}` : country ? ` for ${country}` : ''}`,
      };
    }
    return number.number;
  }
}

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
 * True when `text.slice(start, end)` is not empty and starts and ends with printable ASCII other
 * than a space: trimming leaves it as it is, and it starts with no tab or carriage return.
 */
const plainEnds = (text: string, start: number, end: number): boolean => {
  if (end <= start) return false;
  const first = text.charCodeAt(start);
  const last = text.charCodeAt(end - 1);
  return first > 32 && first < 127 && last > 32 && last < 127;
};

/** Marks an absent value in a contact key. */
const ABSENT = 0xffff;

/**
 * The raw contact fields of a row as one flat string: each value after its length (two code
 * units), an absent one as U+FFFF alone, so two different sets of values never give the same key.
 * One flat string, compared in place with the row (`sameContact`), instead of five strings
 * cut from the text on every row.
 */
const contactKey = (...values: (string | undefined)[]): string => {
  const parts: string[] = [];
  for (const value of values) {
    if (value === undefined) parts.push('\uffff');
    else parts.push(String.fromCharCode(value.length >>> 16, value.length & 0xffff), value);
  }
  // `join` builds a flat string, which keeps no part of the text it was read from alive.
  return parts.join('');
};

/** True when `key` is `contactKey(...values)`, without building it. */
const keyHolds = (key: string, ...values: (string | undefined)[]): boolean => {
  let k = 0;
  for (const value of values) {
    if (value === undefined) {
      if (key.charCodeAt(k++) !== ABSENT) return false;
      continue;
    }
    const length = value.length;
    if (key.charCodeAt(k) !== length >>> 16 || key.charCodeAt(k + 1) !== (length & 0xffff)) return false;
    k += 2;
    if (k + length > key.length) return false;
    for (let i = 0; i < length; i++) if (key.charCodeAt(k + i) !== value.charCodeAt(i)) return false;
    k += length;
  }
  return k === key.length;
};

const countryReason = (code: string): string =>
  code === 'UK'
    ? 'is not an ISO 3166 country code: the United Kingdom is GB'
    : 'is not an ISO 3166 alpha-2 country code (two letters, such as DE)';

/** A customer's contact fields as the file wrote them, and what they gave (per file, reused while they repeat). */
export interface ContactReading {
  /** The raw contact fields it was read from, as one flat string (see `contactKey`). */
  key: string;
  /** The normalised contact, or undefined when a field is wrong (see `problems`). */
  contact: Contact | undefined;
  problems: readonly FieldProblem[];
  /** Set by the caller once the contact was checked for duplicate debtors. */
  debtorChecked: boolean;
}

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

/** Customers whose last contact reading is kept; beyond it, contacts are read row by row. */
const MAX_REMEMBERED_CUSTOMERS = 100_000;

/**
 * What the rules keep of one customer while a file is read: the reading of its contact as its
 * last row wrote it (updated in place when the contact changes), in the same object.
 */
export interface RememberedCustomer extends ContactReading {
  /** The customer id, detached: every row of the customer shares this one string. */
  readonly id: string;
  /** Free for the caller: `parseInvoiceFile` keeps the customer's place in the batch it fills. */
  batch: number;
  slot: number;
}

/**
 * Reads and checks rows of one file. Construct once per file: it holds the compiled rules and
 * the per-file caches. Await {@link loadPhoneRules} once before reading rows.
 *
 * Contact fields are checked once per customer while they repeat: a customer's rows carry the
 * same name, e-mail and phone, and checking them (an e-mail scan, a phone number parse of
 * 3-20 µs) on every row would cost more than everything else. The last reading per customer id
 * is kept (up to 100,000 customers, about 35 MB) and reused when the row's raw values are equal.
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
  /** Remembered customers, and their index there by id (a table that takes ids in place). */
  private readonly customers: RememberedCustomer[] = [];
  private readonly customerIndex = new StringTable(1024);
  /** ISO dates by YYYYMMDD and currency codes by their three character codes: rows share them. */
  private readonly dates = new Map<number, string>();
  private readonly currencies = new Map<number, string | null>();
  /** Values of the contact columns for `contact` on the range path (other columns undefined). */
  private readonly contactValues: (string | undefined)[];
  private readonly noProblems: FieldProblem[] = [];
  private values: readonly (string | undefined)[] = NO_VALUES;
  private problems: FieldProblem[] = [];
  /** The contact reading of the row read last. */
  lastContact: ContactReading | undefined;
  /** The customer of the row read last, when it is remembered (the first 100,000 customers). */
  lastCustomer: RememberedCustomer | undefined;

  constructor(format: InvoiceFormat, plan: ColumnPlan) {
    this.readDate = dateReader(format.dateFormat);
    this.isoDates = format.dateFormat === 'YYYY-MM-DD';
    this.decimalSeparator = format.decimalSeparator;
    this.separatorCode = format.decimalSeparator.charCodeAt(0);
    this.defaultCountry = format.defaultCountry;
    this.at = [...plan.index];
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
    const reading = this.contact(customerId);
    this.lastContact = reading;
    for (const problem of reading.problems) problems.push(problem);

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
      this.lastCustomer?.id ?? customerId!,
      reading.contact!,
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
   * amount needs no more than the quick path of `parseAmount`. The record must have as many
   * fields as the header (the caller checks).
   */
  readRanges(text: string, starts: Int32Array, ends: Int32Array, line: number): InvoiceRow | undefined {
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
    // What `identifier` checks: not like a formula, an ExternalId.
    if (
      !plainEnds(text, idStart, idEnd) ||
      isFormulaStart(text.charCodeAt(idStart)) ||
      !isExternalIdAt(text, idStart, idEnd)
    ) {
      return undefined;
    }
    const index = this.customerIndex.getRange(text, idStart, idEnd);
    const known = index < 0 ? undefined : this.customers[index]!;
    const customerId = known === undefined ? text.slice(idStart, idEnd) : known.id;
    let reading: ContactReading;
    if (known !== undefined && this.sameContact(known, text, starts, ends)) {
      reading = known;
      this.lastCustomer = known;
    } else {
      const values = this.contactValues;
      for (let position = 1; position <= 5; position++) {
        const column = at[position]!;
        if (column >= 0) values[column] = text.slice(starts[column]!, ends[column]!);
      }
      this.values = values;
      reading = this.contact(customerId);
      this.values = NO_VALUES;
    }
    this.lastContact = reading;
    if (reading.contact === undefined) return undefined;

    const invoiceColumn = at[6]!;
    if (invoiceColumn < 0 || !plainEnds(text, starts[invoiceColumn]!, ends[invoiceColumn]!)) return undefined;
    const invoiceId = this.identifier('invoiceId', text.slice(starts[invoiceColumn]!, ends[invoiceColumn]!));

    let kind: InvoiceRow['kind'] | undefined = 'invoice';
    const typeColumn = at[7]!;
    if (typeColumn >= 0 && ends[typeColumn]! > starts[typeColumn]!) {
      if (!plainEnds(text, starts[typeColumn]!, ends[typeColumn]!)) return undefined;
      kind = this.kind(text.slice(starts[typeColumn]!, ends[typeColumn]!));
    }

    let status: InvoiceRow['status'] | undefined = 'open';
    const statusColumn = at[8]!;
    if (statusColumn >= 0 && ends[statusColumn]! > starts[statusColumn]!) {
      if (!plainEnds(text, starts[statusColumn]!, ends[statusColumn]!)) return undefined;
      status = this.status(text.slice(starts[statusColumn]!, ends[statusColumn]!));
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
      if (!plainEnds(text, starts[referenceColumn]!, ends[referenceColumn]!)) return undefined;
      const referenceText = this.text(
        'reference',
        text.slice(starts[referenceColumn]!, ends[referenceColumn]!),
        MAX_REFERENCE,
      );
      if (referenceText !== undefined && isCreditorReference(referenceText)) {
        // What `readReference` answers for a reference in electronic form, without its object.
        reference = referenceText;
        referenceStructured = true;
      } else if (referenceText !== undefined) {
        const read = readReference(referenceText);
        reference = read.reference;
        referenceStructured = read.structured;
      }
    }

    if (problems.length > 0) return undefined;
    return new ValidRow(
      line,
      this.lastCustomer?.id ?? customerId,
      reading.contact,
      invoiceId!,
      kind!,
      status!,
      currency,
      amount,
      issueDate,
      dueDate,
      referenceStructured,
      reference,
    );
  }

  /**
   * True when the contact columns of the record hold exactly what `reading` was read from: its
   * key (see `contactKey`) compared in place, field by field.
   */
  private sameContact(reading: ContactReading, text: string, starts: Int32Array, ends: Int32Array): boolean {
    const key = reading.key;
    const at = this.at;
    let k = 0;
    for (let position = 1; position <= 5; position++) {
      const column = at[position]!;
      if (column < 0) {
        if (key.charCodeAt(k++) !== ABSENT) return false;
        continue;
      }
      const start = starts[column]!;
      const length = ends[column]! - start;
      if (key.charCodeAt(k) !== length >>> 16 || key.charCodeAt(k + 1) !== (length & 0xffff)) return false;
      k += 2;
      if (k + length > key.length) return false;
      for (let i = 0; i < length; i++) if (key.charCodeAt(k + i) !== text.charCodeAt(start + i)) return false;
      k += length;
    }
    return k === key.length;
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
    const key = isoDateAt(text, start, end);
    if (key < 0) return undefined;
    let iso = this.dates.get(key);
    if (iso === undefined) {
      iso = detach(text.slice(start, end));
      if (this.dates.size >= 50_000) this.dates.clear();
      this.dates.set(key, iso);
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

  /** The customer's contact fields, read anew only when they differ from its last row. */
  private contact(customerId: string | undefined): ContactReading {
    const name = this.raw(1);
    const email = this.raw(2);
    const phone = this.raw(3);
    const country = this.raw(4);
    const timeZone = this.raw(5);
    const index = customerId === undefined ? -1 : this.customerIndex.get(customerId);
    const known = index < 0 ? undefined : this.customers[index]!;
    if (known !== undefined && keyHolds(known.key, name, email, phone, country, timeZone)) {
      this.lastCustomer = known;
      return known;
    }
    const problems = this.problems;
    const mark = problems.length;
    const contact = this.readContact();
    const key = contactKey(name, email, phone, country, timeZone);
    const found =
      problems.length === mark
        ? NO_PROBLEMS
        : problems.splice(mark).map((problem) => ({ ...problem, value: detach(problem.value) }));
    if (known !== undefined) {
      // A new reading of a known customer: its later rows compare with this one.
      known.key = key;
      known.contact = contact;
      known.problems = found;
      known.debtorChecked = false;
      this.lastCustomer = known;
      return known;
    }
    if (customerId !== undefined && this.customers.length < MAX_REMEMBERED_CUSTOMERS) {
      const remembered: RememberedCustomer = {
        id: detach(customerId),
        key,
        contact,
        problems: found,
        debtorChecked: false,
        batch: -1,
        slot: 0,
      };
      this.customerIndex.setIfAbsent(remembered.id, this.customers.length);
      this.customers.push(remembered);
      this.lastCustomer = remembered;
      return remembered;
    }
    this.lastCustomer = undefined;
    return { key, contact, problems: found, debtorChecked: false };
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
