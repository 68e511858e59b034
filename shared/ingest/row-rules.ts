import { hash } from 'node:crypto';
import { parsePhoneNumberFromString } from 'libphonenumber-js/min';
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
import { readReference } from './creditor-reference';
import type { InvoiceField, InvoiceFormat } from './format';
import type { ColumnPlan } from './header';
import type { InvoiceRow } from './invoice-row';
import { startsLikeFormula } from './spreadsheet';

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
export const isExternalId = (value: string): boolean => {
  const length = value.length;
  if (length === 0 || length > 128) return false;
  for (let i = 0; i < length; i++) {
    const code = value.charCodeAt(i);
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
export const quickAmount = (text: string, exponent: number, separator: number): number | undefined => {
  const length = text.length;
  if (length === 0 || length > 16) return undefined;
  let i = 0;
  let negative = false;
  const first = text.charCodeAt(0);
  if (first === 45 || first === 43) {
    negative = first === 45;
    i = 1;
  }
  let value = 0;
  let digits = 0;
  let decimals = -1;
  for (; i < length; i++) {
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
    const number = parsePhoneNumberFromString(text, {
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

const countryReason = (code: string): string =>
  code === 'UK'
    ? 'is not an ISO 3166 country code: the United Kingdom is GB'
    : 'is not an ISO 3166 alpha-2 country code (two letters, such as DE)';

/** A customer's contact fields as the file wrote them, and what they gave (per file, reused while they repeat). */
export interface ContactReading {
  name: string | undefined;
  email: string | undefined;
  phone: string | undefined;
  country: string | undefined;
  timeZone: string | undefined;
  /** The normalised contact, or undefined when a field is wrong (see `problems`). */
  contact: Contact | undefined;
  problems: FieldProblem[];
  /** Set by the caller once the contact was checked for duplicate debtors. */
  debtorChecked: boolean;
}

/** Customers whose last contact reading is kept; beyond it, contacts are read row by row. */
const MAX_REMEMBERED_CUSTOMERS = 100_000;

/**
 * Reads and checks rows of one file. Construct once per file: it holds the compiled rules and
 * the per-file caches.
 *
 * Contact fields are checked once per customer while they repeat: a customer's rows carry the
 * same name, e-mail and phone, and checking them (an e-mail scan, a phone number parse of
 * 3-20 µs) on every row would cost more than everything else. The last reading per customer id
 * is kept (up to 100,000 customers, about 35 MB) and reused when the row's raw values are equal.
 */
export class InvoiceRowRules {
  private readonly phones = new PhoneNormaliser();
  private readonly zones = new TimeZones();
  private readonly readDate: (text: string) => DateResult;
  private readonly decimalSeparator: '.' | ',';
  private readonly separatorCode: number;
  private readonly defaultCountry: string | undefined;
  private readonly at: number[];
  private readonly customers = new Map<string, ContactReading>();
  private values: readonly (string | undefined)[] = NO_VALUES;
  private problems: FieldProblem[] = [];
  /** The contact reading of the row read last. */
  lastContact: ContactReading | undefined;

  constructor(format: InvoiceFormat, plan: ColumnPlan) {
    this.readDate = dateReader(format.dateFormat);
    this.decimalSeparator = format.decimalSeparator;
    this.separatorCode = format.decimalSeparator.charCodeAt(0);
    this.defaultCountry = format.defaultCountry;
    this.at = [...plan.index];
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
    if (type !== undefined) {
      const key = asciiLower(type);
      if (CREDIT_NOTE_TYPES.includes(key)) kind = 'credit_note';
      else if (!INVOICE_TYPES.includes(key)) {
        kind = this.problem(
          'type',
          type,
          'must be "invoice" or "credit_note" (also read: "credit note", "CN")',
        );
      }
    }

    let status: InvoiceRow['status'] | undefined = 'open';
    const statusText = this.optional('status', 8);
    if (statusText !== undefined) {
      const key = asciiLower(statusText);
      if (CANCELLED_STATUSES.includes(key)) status = 'cancelled';
      else if (!OPEN_STATUSES.includes(key))
        status = this.problem('status', statusText, 'must be "open" or "cancelled"');
    }

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
    const row: InvoiceRow = {
      line,
      customerId: customerId!,
      contact: reading.contact!,
      invoiceId: invoiceId!,
      kind: kind!,
      status: status!,
      currency: currency!,
      amount: amount!,
      issueDate: issueDate!,
      dueDate: dueDate!,
      referenceStructured,
      digest: '',
    };
    if (reference !== undefined) row.reference = reference;
    return row;
  }

  /** The customer's contact fields, read anew only when they differ from its last row. */
  private contact(customerId: string | undefined): ContactReading {
    const name = this.raw(1);
    const email = this.raw(2);
    const phone = this.raw(3);
    const country = this.raw(4);
    const timeZone = this.raw(5);
    const known = customerId === undefined ? undefined : this.customers.get(customerId);
    if (
      known !== undefined &&
      known.name === name &&
      known.email === email &&
      known.phone === phone &&
      known.country === country &&
      known.timeZone === timeZone
    ) {
      return known;
    }
    const problems = this.problems;
    const mark = problems.length;
    const contact = this.readContact();
    const reading: ContactReading = {
      name: name === undefined ? undefined : detach(name),
      email: email === undefined ? undefined : detach(email),
      phone: phone === undefined ? undefined : detach(phone),
      country: country === undefined ? undefined : detach(country),
      timeZone: timeZone === undefined ? undefined : detach(timeZone),
      contact,
      problems: problems.splice(mark).map((problem) => ({ ...problem, value: detach(problem.value) })),
      debtorChecked: false,
    };
    if (customerId !== undefined && (known !== undefined || this.customers.size < MAX_REMEMBERED_CUSTOMERS)) {
      this.customers.set(known === undefined ? detach(customerId) : customerId, reading);
    }
    return reading;
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

/** The canonical text of what an invoice row says, which its digest hashes. */
export const canonicalRow = (
  row: Omit<InvoiceRow, 'digest' | 'line' | 'contact' | 'referenceStructured'>,
): string =>
  // U+001F cannot occur in any of these values: ids and references refuse control characters.
  `invoice-row/v1\u001f${row.customerId}\u001f${row.invoiceId}\u001f${row.kind}\u001f${row.status}\u001f${
    row.currency
  }\u001f${row.amount}\u001f${row.issueDate}\u001f${row.dueDate}\u001f${row.reference ?? ''}`;

/**
 * Digest of what an invoice row says (not where it stands in which file), versioned so a change
 * of normalisation shows as a change of digest. The contact is not part of it: contact data
 * belongs to the account, and a changed phone number does not change the invoice.
 */
export const rowDigest = (
  row: Omit<InvoiceRow, 'digest' | 'line' | 'contact' | 'referenceStructured'>,
): string => hash('sha256', canonicalRow(row));
