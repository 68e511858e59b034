import * as z from '../../zod';
import { currencyExponent, isActiveCurrency } from './currencies';

/**
 * ISO 4217 code of an active currency.
 */
export const CurrencyCode = z.onFirstUse(() =>
  z
    .string()
    .check(
      z.regex(/^[A-Z]{3}$/, 'must be a three-letter ISO 4217 code'),
      z.refine(isActiveCurrency, 'is not an active ISO 4217 currency'),
    ),
);
export type CurrencyCode = z.infer<typeof CurrencyCode>;

/** An amount in integer minor units (cents, yen, fils). Never a float. */
export const MinorUnits = z.onFirstUse(() =>
  z.number().check(z.int(), z.refine(Number.isSafeInteger, 'is out of the safe integer range')),
);
export type MinorUnits = z.infer<typeof MinorUnits>;

export const Money = z.onFirstUse(() => z.object({ amount: MinorUnits, currency: CurrencyCode }));
export type Money = z.infer<typeof Money>;

/** Balances of one account, minor units per currency: money in different currencies never adds up. */
export const Balances = z.onFirstUse(() => z.record(z.string(), MinorUnits));
export type Balances = z.infer<typeof Balances>;

export class AmountFormatError extends Error {
  override readonly name = 'AmountFormatError';
}

export interface ParseAmountOptions {
  /** The decimal separator the source uses: `.` (default) or `,`. */
  decimalSeparator?: '.' | ',';
}

/**
 * Parses a plain decimal written by a person or an ERP ("1234.5", "-0,07", "1000") into minor
 * units, by string arithmetic: the text never passes through a float. Rejects thousands
 * separators, exponents and more decimals than the currency has (a JPY amount has none).
 */
export const parseAmount = (text: string, currency: string, options: ParseAmountOptions = {}): number => {
  const separator = options.decimalSeparator ?? '.';
  const exponent = currencyExponent(currency);
  const trimmed = text.trim();
  const pattern = separator === '.' ? /^([+-]?)(\d+)(?:\.(\d*))?$/ : /^([+-]?)(\d+)(?:,(\d*))?$/;
  const match = pattern.exec(trimmed);
  if (!match) {
    throw new AmountFormatError(
      `"${text}" is not a plain decimal number (digits, optionally "${separator}" and decimals)`,
    );
  }
  const [, sign, whole = '', fraction = ''] = match;
  if (fraction.length > exponent) {
    throw new AmountFormatError(
      exponent === 0
        ? `"${text}" has decimals, but ${currency} has no minor unit`
        : `"${text}" has ${fraction.length} decimals, but ${currency} has ${exponent}`,
    );
  }
  const digits = (whole + fraction.padEnd(exponent, '0')).replace(/^0+(?=\d)/, '');
  const value = Number(digits);
  if (!Number.isSafeInteger(value)) throw new AmountFormatError(`"${text}" is too large`);
  return sign === '-' && value !== 0 ? -value : value;
};

/** Formats minor units as a plain decimal string ("1234.50"), exact for any safe integer. */
export const formatAmount = (minor: number, currency: string): string => {
  const exponent = currencyExponent(currency);
  const negative = minor < 0;
  const digits = Math.abs(minor)
    .toString()
    .padStart(exponent + 1, '0');
  const whole = exponent === 0 ? digits : digits.slice(0, -exponent);
  const fraction = exponent === 0 ? '' : `.${digits.slice(-exponent)}`;
  return `${negative ? '-' : ''}${whole}${fraction}`;
};

/** Human display for notices, e.g. "USD 1,234.50"; grouping only, digits from {@link formatAmount}. */
export const displayAmount = (minor: number, currency: string): string => {
  const [whole = '0', fraction] = formatAmount(minor, currency).split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${currency} ${fraction === undefined ? grouped : `${grouped}.${fraction}`}`;
};

const safe = (value: number): number => {
  if (!Number.isSafeInteger(value)) throw new RangeError('money arithmetic left the safe integer range');
  return value;
};

export const addMinor = (a: number, b: number): number => safe(a + b);
export const subtractMinor = (a: number, b: number): number => safe(a - b);

/** Adds a signed amount to one currency of a balance map, dropping currencies that reach zero. */
export const addToBalances = (balances: Balances, currency: string, delta: number): Balances => {
  const next = { ...balances, [currency]: addMinor(balances[currency] ?? 0, delta) };
  if (next[currency] === 0) delete next[currency];
  return next;
};
