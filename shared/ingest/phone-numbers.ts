import type { Metadata, parsePhoneNumberFromString } from 'libphonenumber-js/min';

/** A phone number as we keep it (E.164), or why it cannot be taken. */
export type NormalisedPhone = string | { reason: string };

interface PhoneLibrary {
  parse: typeof parsePhoneNumberFromString;
  quick: QuickPhoneReader;
}

let library: PhoneLibrary | undefined;

/**
 * Loads libphonenumber-js (its code and metadata are the largest part of the ingest bundle, ~120
 * KB): imported dynamically so that starting a function that bundles this module does not pay
 * for it, only reading a file does. Await it once before reading rows (`parseInvoiceFile` does).
 */
export const loadPhoneRules = async (): Promise<void> => {
  if (library !== undefined) return;
  const phones = await (await import('./phone-library')).loadPhoneLibrary();
  library ??= { parse: phones.parsePhoneNumberFromString, quick: new QuickPhoneReader(phones.Metadata) };
};

/**
 * E.164 phone numbers via libphonenumber-js with its `min` metadata: it checks length and number
 * plan per country (`max` adds number-type patterns and costs 1.6x more; nothing here needs the
 * type). Results are cached per (country, text): a customer's rows repeat the same number.
 *
 * A file of 100,000 customers holds about as many distinct numbers, and libphonenumber-js takes
 * 5-60 µs for each (it compiles every pattern it tries anew): most of the time of reading such
 * a file. {@link QuickPhoneReader} answers the common case, a valid number written in digits
 * and spaces, in about a microsecond with the same metadata and the same steps; everything else
 * (anything invalid included) still goes to libphonenumber-js, which words the reasons. Only the
 * library's verdicts are cached: a quick answer costs less than a cache entry.
 */
export class PhoneNormaliser {
  private readonly cache = new Map<string, Map<string, NormalisedPhone>>();
  private entries = 0;

  constructor(private readonly maxEntries = 20_000) {}

  normalise(text: string, country: string | undefined): NormalisedPhone {
    if (library === undefined) throw new Error('phone rules not loaded: await loadPhoneRules() first');
    // A quick answer costs less than keeping it; only the library's verdicts are cached.
    const quick = library.quick.read(text, country);
    if (quick !== undefined) return quick;
    const key = country ?? '';
    let byText = this.cache.get(key);
    if (byText === undefined) {
      byText = new Map();
      this.cache.set(key, byText);
    }
    let result = byText.get(text);
    if (result === undefined) {
      result = parseWithLibrary(library.parse, text, country);
      if (this.entries >= this.maxEntries) {
        this.cache.clear();
        this.entries = 0;
        byText = new Map();
        this.cache.set(key, byText);
      }
      // A copy, so the cache keeps no chunk of the file alive (see `detach` in row-rules).
      byText.set(` ${text}`.slice(1), result);
      this.entries++;
    }
    return result;
  }
}

/** The verdict on one phone number: the quick reader's when it has one, else libphonenumber-js's. */
export const normalisePhone = (text: string, country: string | undefined): NormalisedPhone => {
  if (library === undefined) throw new Error('phone rules not loaded: await loadPhoneRules() first');
  return library.quick.read(text, country) ?? parseWithLibrary(library.parse, text, country);
};

/** The verdict of libphonenumber-js alone (the reference for {@link QuickPhoneReader}). */
export const normalisePhoneWithLibrary = (text: string, country: string | undefined): NormalisedPhone => {
  if (library === undefined) throw new Error('phone rules not loaded: await loadPhoneRules() first');
  return parseWithLibrary(library.parse, text, country);
};

const parseWithLibrary = (
  parse: typeof parsePhoneNumberFromString,
  text: string,
  country: string | undefined,
): NormalisedPhone => {
  const number = parse(text, {
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
};

/**
 * The parts of libphonenumber-js's `Metadata` the quick reader uses. Only `leadingDigits`,
 * `possibleLengths` and `IDDPrefix` are documented; the rest are the accessors its own parser
 * calls. test/unit/ingest/phone-numbers.test.ts pins the reader to the library on numbers of
 * every country, so an upgrade that changes any of this fails there.
 */
interface PhoneMetadata {
  hasCountry(country: string): boolean;
  hasCallingCode(callingCode: string): boolean | undefined;
  getCountryCodesForCallingCode(callingCode: string): readonly string[] | undefined;
  selectNumberingPlan(countryOrCallingCode: string): unknown;
  numberingPlan?: {
    callingCode(): string;
    nationalNumberPattern(): string;
    possibleLengths(): readonly number[] | undefined;
    nationalPrefixForParsing(): string | undefined;
    leadingDigits(): string | undefined;
    IDDPrefix(): string | undefined;
    hasTypes(): boolean;
    type(type: string): { pattern(): string; possibleLengths(): readonly number[] | undefined } | undefined;
  };
}

/** The number types libphonenumber-js's `getNumberType` tries: a number of none of them is not valid. */
const NUMBER_TYPES = [
  'FIXED_LINE',
  'MOBILE',
  'PREMIUM_RATE',
  'TOLL_FREE',
  'SHARED_COST',
  'VOIP',
  'PERSONAL_NUMBER',
  'PAGER',
  'UAN',
  'VOICEMAIL',
];

/** A numbering plan with its patterns compiled once. */
interface Plan {
  callingCode: string;
  /** The national number pattern, whole (libphonenumber's `matchesEntirely`). */
  nationalNumber: RegExp;
  possibleLengths: readonly number[] | undefined;
  /** The national prefix for parsing, at the start. */
  prefixForParsing: RegExp | undefined;
  leadingDigits: RegExp | undefined;
  iddPrefix: RegExp | undefined;
  /** Undefined when the metadata has no number types for the plan; else those with a pattern. */
  types: { pattern: RegExp; lengths: readonly number[] | undefined }[] | undefined;
}

const MAX_LENGTH_COUNTRY_CODE = 3;
const MIN_LENGTH_FOR_NSN = 2;
const MAX_LENGTH_FOR_NSN = 17;
/** Longest input the quick reader looks at; longer ones go to the library. */
const MAX_QUICK_INPUT = 40;

/**
 * libphonenumber-js's parse (`parsePhoneNumberFromString(text, { defaultCountry, extract: false })`
 * then `isValid()` and `.number`) for the input most files hold, with every pattern compiled once
 * (the library builds a `RegExp` from its metadata on every test, up to a dozen per number).
 *
 * It takes a number written as `+` and digits, or digits alone with a default country, with
 * single spaces, hyphens, dots or slashes between digits, and follows the library step by step:
 * the calling code after `+` (the first one to three digits the metadata knows), else the default
 * country's plan; the national prefix stripped as the library strips it; the country found among
 * those sharing the calling code by leading digits or number type; the national number pattern
 * (or number types) for validity. It answers only when the number is valid and every step took
 * the plain branch. Anything else, such as an international prefix (00…), a national prefix
 * with a carrier code, a calling code not followed by digits, an invalid or unusual number,
 * returns undefined, for the library to judge and word.
 *
 * Why by hand: no library offers a fast path, and the library's own is the slow part. It reads
 * `Metadata` accessors that libphonenumber-js does not document, so package.json pins the exact
 * version and test/unit/ingest/phone-numbers.test.ts compares it with the library on every
 * country's examples and thousands of generated numbers: an upgrade must pass those first.
 */
export class QuickPhoneReader {
  private readonly metadata: PhoneMetadata;
  private readonly plans = new Map<string, Plan>();
  private readonly patterns = new Map<string, RegExp>();

  constructor(MetadataClass: typeof Metadata) {
    this.metadata = new MetadataClass() as unknown as PhoneMetadata;
  }

  /** The E.164 form of a valid number in the shape described above, or undefined. */
  read(text: string, country: string | undefined): string | undefined {
    const length = text.length;
    if (length > MAX_QUICK_INPUT) return undefined;
    const plus = text.charCodeAt(0) === 43;
    let digits = '';
    let afterDigit = false;
    for (let i = plus ? 1 : 0; i < length; i++) {
      const code = text.charCodeAt(i);
      if (code >= 48 && code <= 57) {
        digits += text[i];
        afterDigit = true;
      } else if (afterDigit && (code === 32 || code === 45 || code === 46 || code === 47)) {
        afterDigit = false;
      } else {
        return undefined;
      }
    }
    if (!afterDigit || digits.length < 3) return undefined;
    const metadata = this.metadata;
    // The library drops a default country its metadata does not know: leave that to it.
    if (country !== undefined && !metadata.hasCountry(country)) return undefined;

    let callingCode: string;
    let plan: Plan;
    let rest: string;
    let exactCountry: string | undefined;
    if (plus) {
      if (digits.charCodeAt(0) === 48) return undefined;
      let end = 1;
      while (
        end <= MAX_LENGTH_COUNTRY_CODE &&
        end <= digits.length &&
        !metadata.hasCallingCode(digits.slice(0, end))
      )
        end++;
      if (end > MAX_LENGTH_COUNTRY_CODE || end > digits.length) return undefined;
      callingCode = digits.slice(0, end);
      // A non-geographic calling code (+800…): left to the library.
      if (metadata.getCountryCodesForCallingCode(callingCode) === undefined) return undefined;
      plan = this.plan(callingCode);
      rest = digits.slice(end);
    } else {
      if (country === undefined) return undefined;
      plan = this.plan(country);
      callingCode = plan.callingCode;
      // An international prefix, or the calling code written without `+`: the library's
      // `stripIddPrefix` and its heuristics for numbers without a plus decide those.
      if (plan.iddPrefix === undefined || digits.search(plan.iddPrefix) === 0) return undefined;
      if (digits.startsWith(callingCode)) return undefined;
      rest = digits;
      exactCountry = country;
    }
    if (rest.length === 0) return undefined;

    // `extractNationalNumber`: the national prefix, unless stripping it spoils a valid number
    // or leaves one of an impossible length.
    let national = rest;
    if (plan.prefixForParsing !== undefined) {
      const match = plan.prefixForParsing.exec(rest);
      if (match !== null) {
        // Captured groups carry a carrier code or feed a transform rule: left to the library.
        if (match.length > 1) return undefined;
        const stripped = rest.slice(match[0].length);
        if (stripped !== rest) {
          if (plan.nationalNumber.test(rest) && !plan.nationalNumber.test(stripped)) {
            // The prefix is part of the number.
          } else if (plan.possibleLengths) {
            const found = this.countryByCallingCode(callingCode, stripped);
            const lengths = found !== undefined ? this.plan(found).possibleLengths : plan.possibleLengths;
            const verdict = lengthVerdict(stripped.length, lengths);
            if (verdict !== TOO_SHORT && verdict !== INVALID_LENGTH) national = stripped;
          } else {
            national = stripped;
          }
        }
      }
    }

    const found = this.countryByCallingCode(callingCode, national);
    if (found !== undefined) exactCountry = found;
    if (national.length < MIN_LENGTH_FOR_NSN || national.length > MAX_LENGTH_FOR_NSN) return undefined;

    // `isValid`: by number type where the metadata has types, else the national number pattern.
    const valid = this.plan(exactCountry ?? callingCode);
    const isValid =
      valid.types !== undefined ? hasNumberType(valid, national) : valid.nationalNumber.test(national);
    return isValid ? `+${callingCode}${national}` : undefined;
  }

  /** `getCountryByCallingCode`: the one country of the code, or the first of those sharing it that fits. */
  private countryByCallingCode(callingCode: string, national: string): string | undefined {
    const countries = this.metadata.getCountryCodesForCallingCode(callingCode);
    if (!countries) return undefined;
    if (countries.length === 1) return countries[0];
    for (const country of countries) {
      const plan = this.plan(country);
      if (plan.leadingDigits !== undefined) {
        if (national && national.search(plan.leadingDigits) === 0) return country;
      } else if (plan.types !== undefined && hasNumberType(plan, national)) {
        return country;
      }
    }
    return undefined;
  }

  /** The plan of a country or of a calling code (its main country's), compiled once. */
  private plan(countryOrCallingCode: string): Plan {
    let plan = this.plans.get(countryOrCallingCode);
    if (plan !== undefined) return plan;
    const metadata = this.metadata;
    metadata.selectNumberingPlan(countryOrCallingCode);
    const numbering = metadata.numberingPlan!;
    const prefixForParsing = numbering.nationalPrefixForParsing();
    const leadingDigits = numbering.leadingDigits();
    const iddPrefix = numbering.IDDPrefix();
    let types: Plan['types'];
    if (numbering.hasTypes()) {
      types = [];
      for (const name of NUMBER_TYPES) {
        const type = numbering.type(name);
        if (type === undefined || !type.pattern()) continue;
        types.push({ pattern: this.pattern(`^(?:${type.pattern()})$`), lengths: type.possibleLengths() });
      }
    }
    plan = {
      callingCode: numbering.callingCode(),
      nationalNumber: this.pattern(`^(?:${numbering.nationalNumberPattern()})$`),
      possibleLengths: numbering.possibleLengths(),
      prefixForParsing: prefixForParsing ? this.pattern(`^(?:${prefixForParsing})`) : undefined,
      leadingDigits: leadingDigits ? this.pattern(leadingDigits) : undefined,
      iddPrefix: iddPrefix === undefined ? undefined : this.pattern(iddPrefix),
      types,
    };
    this.plans.set(countryOrCallingCode, plan);
    return plan;
  }

  private pattern(source: string): RegExp {
    let pattern = this.patterns.get(source);
    if (pattern === undefined) {
      pattern = new RegExp(source);
      this.patterns.set(source, pattern);
    }
    return pattern;
  }
}

/**
 * `getNumberType(...) !== undefined`: the number fits the national number pattern and the
 * pattern (and lengths) of one of the plan's number types.
 */
const hasNumberType = (plan: Plan, national: string): boolean => {
  if (!plan.nationalNumber.test(national)) return false;
  for (const type of plan.types!) {
    if (type.lengths && type.lengths.indexOf(national.length) < 0) continue;
    if (type.pattern.test(national)) return true;
  }
  return false;
};

const IS_POSSIBLE = 0;
const TOO_SHORT = 1;
const TOO_LONG = 2;
const INVALID_LENGTH = 3;

/** `checkNumberLength` of libphonenumber-js for a number of `length` digits. */
const lengthVerdict = (length: number, lengths: readonly number[] | undefined): number => {
  if (!lengths) return IS_POSSIBLE;
  const minimum = lengths[0]!;
  if (minimum === length) return IS_POSSIBLE;
  if (minimum > length) return TOO_SHORT;
  if (lengths[lengths.length - 1]! < length) return TOO_LONG;
  return lengths.indexOf(length, 1) >= 0 ? IS_POSSIBLE : INVALID_LENGTH;
};
