import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AmountFormatError,
  addMinor,
  addToBalances,
  currencyExponent,
  displayAmount,
  formatAmount,
  parseAmount,
} from '../../../shared/domain/money';

const CURRENCIES = ['JPY', 'USD', 'KWD'] as const;
const digit = fc.constantFrom(...'0123456789'.split(''));
const digits = (minLength: number, maxLength: number) =>
  fc.array(digit, { minLength, maxLength }).map((chars) => chars.join(''));

describe('currencyExponent', () => {
  it('follows ISO 4217 minor units', () => {
    expect([currencyExponent('JPY'), currencyExponent('USD'), currencyExponent('KWD')]).toEqual([0, 2, 3]);
  });

  it('refuses a code that is not an active currency', () => {
    expect(() => currencyExponent('XXX')).toThrow(RangeError);
  });
});

describe('parseAmount', () => {
  it('reads plain decimals into minor units', () => {
    expect(parseAmount('1234.5', 'USD')).toBe(123450);
    expect(parseAmount(' 1000 ', 'JPY')).toBe(1000);
    expect(parseAmount('0.001', 'KWD')).toBe(1);
    expect(parseAmount('-12.34', 'USD')).toBe(-1234);
    expect(parseAmount('+7', 'USD')).toBe(700);
    expect(parseAmount('15.', 'USD')).toBe(1500);
  });

  it('reads a decimal comma when told to', () => {
    expect(parseAmount('-0,07', 'USD', { decimalSeparator: ',' })).toBe(-7);
    expect(() => parseAmount('0.07', 'USD', { decimalSeparator: ',' })).toThrow(AmountFormatError);
  });

  it('never returns negative zero', () => {
    expect(Object.is(parseAmount('-0.00', 'USD'), 0)).toBe(true);
  });

  it('refuses thousands separators, exponents and words', () => {
    for (const text of ['1,000.00', '1e3', '1 000', 'ten', '', '.5', '0x10']) {
      expect(() => parseAmount(text, 'USD'), text).toThrow(AmountFormatError);
    }
  });

  it('refuses decimals on a currency without a minor unit', () => {
    expect(() => parseAmount('100.5', 'JPY')).toThrow(/JPY has no minor unit/);
  });

  it('refuses amounts beyond the safe integer range', () => {
    expect(() => parseAmount('90071992547409.92', 'USD')).toThrow(/too large/);
  });

  it('refuses more decimals than the currency has, whatever the digits', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...CURRENCIES),
        digits(1, 8),
        fc.integer({ min: 1, max: 4 }),
        fc.boolean(),
        (currency, whole, extra, negative) => {
          const exponent = currencyExponent(currency);
          const fraction = '7'.repeat(exponent + extra);
          const text = `${negative ? '-' : ''}${whole}.${fraction}`;
          expect(() => parseAmount(text, currency)).toThrow(AmountFormatError);
        },
      ),
    );
  });

  it('accepts up to the currency exponent of decimals, padding the rest', () => {
    fc.assert(
      fc.property(fc.constantFrom(...CURRENCIES), digits(1, 6), (currency, whole) => {
        const exponent = currencyExponent(currency);
        fc.pre(exponent > 0);
        expect(parseAmount(`${whole}.5`, currency)).toBe(
          Number(whole) * 10 ** exponent + 5 * 10 ** (exponent - 1),
        );
      }),
    );
  });
});

describe('formatAmount', () => {
  it('writes minor units as a plain decimal with the currency exponent', () => {
    expect(formatAmount(123450, 'USD')).toBe('1234.50');
    expect(formatAmount(5, 'USD')).toBe('0.05');
    expect(formatAmount(-5, 'USD')).toBe('-0.05');
    expect(formatAmount(1, 'KWD')).toBe('0.001');
    expect(formatAmount(1000, 'JPY')).toBe('1000');
    expect(formatAmount(Number.MAX_SAFE_INTEGER, 'USD')).toBe('90071992547409.91');
  });

  it('round-trips through parseAmount for every safe integer', () => {
    fc.assert(
      fc.property(fc.constantFrom(...CURRENCIES), fc.maxSafeInteger(), (currency, minor) => {
        expect(parseAmount(formatAmount(minor, currency), currency)).toBe(minor);
      }),
    );
  });

  it('round-trips with a decimal comma too', () => {
    fc.assert(
      fc.property(fc.constantFrom(...CURRENCIES), fc.maxSafeInteger(), (currency, minor) => {
        const text = formatAmount(minor, currency).replace('.', ',');
        expect(parseAmount(text, currency, { decimalSeparator: ',' })).toBe(minor);
      }),
    );
  });

  it('writes exactly the currency exponent of decimals', () => {
    fc.assert(
      fc.property(fc.constantFrom(...CURRENCIES), fc.maxSafeInteger(), (currency, minor) => {
        const exponent = currencyExponent(currency);
        const [, fraction] = formatAmount(minor, currency).split('.');
        expect(fraction?.length ?? 0).toBe(exponent);
      }),
    );
  });
});

describe('displayAmount', () => {
  it('groups thousands for people without touching the digits', () => {
    expect(displayAmount(123456789, 'USD')).toBe('USD 1,234,567.89');
    expect(displayAmount(-1234567, 'JPY')).toBe('JPY -1,234,567');
    expect(displayAmount(999, 'KWD')).toBe('KWD 0.999');
  });
});

describe('balances arithmetic', () => {
  it('keeps currencies apart and drops a currency that reaches zero', () => {
    const balances = addToBalances(addToBalances({}, 'USD', 1000), 'EUR', 250);
    expect(balances).toEqual({ USD: 1000, EUR: 250 });
    expect(addToBalances(balances, 'USD', -1000)).toEqual({ EUR: 250 });
  });

  it('refuses to leave the safe integer range instead of losing cents', () => {
    expect(() => addMinor(Number.MAX_SAFE_INTEGER, 1)).toThrow(RangeError);
  });
});
