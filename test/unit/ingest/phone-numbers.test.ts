import fc from 'fast-check';
import examples from 'libphonenumber-js/examples.mobile.json';
import { Metadata } from 'libphonenumber-js/min';
import metadata from 'libphonenumber-js/min/metadata';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  loadPhoneRules,
  normalisePhone,
  normalisePhoneWithLibrary,
  PhoneNormaliser,
  QuickPhoneReader,
} from '../../../shared/ingest/phone-numbers';

beforeAll(loadPhoneRules);

const reader = new QuickPhoneReader(Metadata);
const quickPhone = (text: string, country: string | undefined) => reader.read(text, country);

const COUNTRIES = Object.keys(metadata.countries).sort();
const EXAMPLES = examples as Record<string, string | undefined>;
const callingCodeOf = (country: string): string =>
  (metadata.countries as Record<string, unknown[]>)[country]![0] as string;

/**
 * The quick reader either leaves a number to libphonenumber-js or gives exactly what the library
 * gives; and the normaliser as a whole always answers as the library does.
 */
const agrees = (text: string, country: string | undefined): string | undefined => {
  const library = normalisePhoneWithLibrary(text, country);
  const quick = quickPhone(text, country);
  if (quick !== undefined) expect(quick, `${text} (${country})`).toBe(library);
  expect(normalisePhone(text, country), `${text} (${country})`).toEqual(library);
  return quick;
};

/** Ways a finance export writes a national number `national` of `country`. */
const writings = (country: string, national: string): { text: string; country: string | undefined }[] => {
  const code = callingCodeOf(country);
  const grouped = national.replace(/(\d{3})(?=\d)/g, '$1 ');
  return [
    { text: `+${code}${national}`, country: undefined },
    { text: `+${code}${national}`, country },
    { text: `+${code} ${grouped}`, country: 'DE' },
    { text: `+${code}-${national.slice(0, 2)}-${national.slice(2)}`, country: undefined },
    { text: `+${code}.${national}`, country: 'US' },
    { text: national, country },
    { text: grouped, country },
    { text: `0${national}`, country },
    { text: `0 ${grouped}`, country },
    { text: `1${national}`, country },
    { text: `8${national}`, country },
    { text: `00${code}${national}`, country },
    { text: `${code}${national}`, country },
    { text: `+${code}0${national}`, country: undefined },
    { text: `+${code}${national.slice(0, -1)}`, country: undefined },
    { text: `+${code}${national}9`, country: undefined },
    { text: national, country: undefined },
    { text: `${national.slice(0, 3)}/${national.slice(3)}`, country },
  ];
};

describe('QuickPhoneReader: libphonenumber-js answers, a dozen times faster', () => {
  it('gives what the library gives for the mobile example number of every country, written many ways', () => {
    let answered = 0;
    let validE164 = 0;
    let quickE164 = 0;
    for (const country of COUNTRIES) {
      const national = EXAMPLES[country];
      if (national === undefined) continue;
      for (const { text, country: given } of writings(country, national)) {
        if (agrees(text, given) !== undefined) answered++;
      }
      if (typeof normalisePhoneWithLibrary(`+${callingCodeOf(country)}${national}`, undefined) === 'string') {
        validE164++;
        if (quickPhone(`+${callingCodeOf(country)}${national}`, undefined) !== undefined) quickE164++;
      }
    }
    // A valid number in E.164 form is the quick reader's own case: it leaves to the library only
    // numbers that a national prefix rule with groups (a carrier code, a transform) could touch,
    // such as Argentina's (244 of the 245 examples are read quickly with libphonenumber-js 1.13).
    expect(validE164).toBeGreaterThan(200);
    expect(quickE164 / validE164).toBeGreaterThan(0.95);
    expect(answered).toBeGreaterThan(500);
  });

  it('gives what the library gives for digits and separators around the example numbers', () => {
    const withExamples = COUNTRIES.filter((country) => EXAMPLES[country] !== undefined);
    const mutation = fc.record({
      country: fc.constantFrom(...withExamples),
      given: fc.oneof(fc.constant(undefined), fc.constant('same'), fc.constantFrom(...COUNTRIES)),
      plus: fc.boolean(),
      /** Digits replaced, inserted or removed at random places. */
      edits: fc.array(
        fc.record({ at: fc.nat(), digit: fc.constantFrom(...'0123456789'), kind: fc.constantFrom(0, 1, 2) }),
        { maxLength: 3 },
      ),
      prefix: fc.constantFrom('', '', '0', '1', '00', '011', '8', '9'),
      separator: fc.constantFrom('', ' ', '-', '.', '/', '  ', '(', ')'),
      every: fc.integer({ min: 1, max: 5 }),
    });
    fc.assert(
      fc.property(mutation, ({ country, given, plus, edits, prefix, separator, every }) => {
        let digits = `${plus ? callingCodeOf(country) : ''}${prefix}${EXAMPLES[country]}`;
        for (const { at, digit, kind } of edits) {
          const place = at % (digits.length + 1);
          if (kind === 0) digits = digits.slice(0, place) + digit + digits.slice(place + 1);
          else if (kind === 1) digits = digits.slice(0, place) + digit + digits.slice(place);
          else digits = digits.slice(0, place) + digits.slice(place + 1);
        }
        let text = '';
        for (let i = 0; i < digits.length; i++)
          text += (i > 0 && i % every === 0 ? separator : '') + digits[i];
        agrees(`${plus ? '+' : ''}${text}`, given === 'same' ? country : given);
      }),
      { numRuns: 4000 },
    );
  });

  it('gives what the library gives for random digits, with and without a plus', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 1, maxLength: 19 }),
        fc.oneof(fc.constant(undefined), fc.constantFrom(...COUNTRIES)),
        (plus, digits, country) => {
          agrees(`${plus ? '+' : ''}${digits}`, country);
        },
      ),
      { numRuns: 4000 },
    );
  });

  it('answers for the numbers of a typical export itself, as the library does', () => {
    const pad = (value: number, width: number) => String(value).padStart(width, '0');
    const formats: [string, (n: number) => string][] = [
      ['DE', (n) => `+4930${pad(n, 8)}`],
      ['DE', (n) => `030 ${pad(n, 8)}`],
      ['US', (n) => `+1212${2 + (n % 8)}${pad(n % 1_000_000, 6)}`],
      ['GB', (n) => `020 7${pad(Math.floor(n / 10_000) % 1000, 3)} ${pad(n % 10_000, 4)}`],
      ['FR', (n) => `+331${pad(n % 100_000_000, 8)}`],
      ['JP', (n) => `+813${pad(n % 100_000_000, 8)}`],
      ['IT', (n) => `+39 06 ${pad(n % 100_000_000, 8)}`],
      ['CA', (n) => `+1 416 555 ${pad(n % 10_000, 4)}`],
      ['GG', (n) => `07781 ${pad(n % 1_000_000, 6)}`],
      ['AU', (n) => `02 9${pad(n % 10_000_000, 7)}`],
    ];
    fc.assert(
      fc.property(fc.constantFrom(...formats), fc.nat({ max: 99_999_999 }), ([country, write], n) => {
        const text = write(n);
        const quick = agrees(text, country);
        // All but the national forms of AU (its prefix rule has a carrier group) and GG (its
        // numbers need the library's other-country rules), which go to the library.
        if (
          typeof normalisePhoneWithLibrary(text, country) === 'string' &&
          country !== 'AU' &&
          country !== 'GG'
        )
          expect(quick, text).toBeDefined();
      }),
      { numRuns: 3000 },
    );
  });

  it('leaves to the library what it does not read (its reasons stay the library’s)', () => {
    expect(quickPhone('+49 (0)30 1234567', 'DE')).toBeUndefined();
    expect(quickPhone('0049 30 1234567', 'DE')).toBeUndefined();
    expect(quickPhone('030 1234567', undefined)).toBeUndefined();
    expect(quickPhone('+49', undefined)).toBeUndefined();
    expect(quickPhone('+800 1234 5678', undefined)).toBeUndefined();
    expect(quickPhone('12', 'DE')).toBeUndefined();
    expect(normalisePhone('12', 'DE')).toEqual(normalisePhoneWithLibrary('12', 'DE'));
    expect(normalisePhone('030 1234567', undefined)).toEqual({
      reason: 'is written in national form but the row names no country: write it as +<country code>…',
    });
  });

  it('keeps a verdict per country and text', () => {
    const phones = new PhoneNormaliser(2);
    expect(phones.normalise('030 1234567', 'DE')).toBe('+49301234567');
    expect(phones.normalise('030 1234567', 'AT')).toBe(normalisePhoneWithLibrary('030 1234567', 'AT'));
    expect(phones.normalise('+1 212 555 0100', undefined)).toBe('+12125550100');
    expect(phones.normalise('030 1234567', 'DE')).toBe('+49301234567');
  });
});
