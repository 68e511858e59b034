import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ExternalId, IsoDate } from '../../../shared/domain/ids';
import { rowDigest } from '../../../shared/domain/invoice-ingest/row-digest';
import { AmountFormatError, parseAmount } from '../../../shared/domain/money';
import { toByteText } from '../../../shared/ingest/byte-text';
import {
  creditorReference,
  isCreditorReference,
  readReference,
} from '../../../shared/ingest/creditor-reference';
import { type InvoiceField, InvoiceFormat } from '../../../shared/ingest/format';
import { FIELDS, resolveHeader } from '../../../shared/ingest/header';
import { InvoiceRow } from '../../../shared/ingest/invoice-row';
import {
  cleanText,
  dateReader,
  type FieldProblem,
  InvoiceRowRules,
  isEmail,
  isExternalId,
  isExternalIdAt,
  isoDateAt,
  isoDaySlotAt,
  loadPhoneRules,
  quickAmount,
  quickAmountAt,
} from '../../../shared/ingest/row-rules';
import {
  neutraliseForSpreadsheet,
  spreadsheetCsvField,
  startsLikeFormula,
} from '../../../shared/ingest/spreadsheet';

const BASE: Partial<Record<InvoiceField, string>> = {
  customerId: 'C-1',
  customerName: 'Acme GmbH',
  email: 'ap@acme.example',
  phone: '+49 30 1234567',
  country: 'DE',
  timeZone: 'Europe/Berlin',
  invoiceId: 'INV-1',
  type: '',
  status: '',
  currency: 'EUR',
  amount: '100.00',
  issueDate: '2026-01-15',
  dueDate: '2026-02-14',
  reference: '',
};

beforeAll(loadPhoneRules);

const rulesFor = (format: Partial<InvoiceFormat> = {}) => {
  const verdict = resolveHeader([...FIELDS], {});
  if (!verdict.ok) throw new Error(verdict.reason);
  return new InvoiceRowRules(InvoiceFormat.parse(format), verdict.plan);
};

/** Reads one row made of BASE with some fields changed. */
const check = (fields: Partial<Record<InvoiceField, string>>, format: Partial<InvoiceFormat> = {}) => {
  const merged = { ...BASE, ...fields };
  const problems: FieldProblem[] = [];
  const row = rulesFor(format).read(
    FIELDS.map((field) => merged[field] ?? ''),
    2,
    problems,
  );
  return { row, problems };
};

const problemOf = (fields: Partial<Record<InvoiceField, string>>, format: Partial<InvoiceFormat> = {}) => {
  const { row, problems } = check(fields, format);
  expect(row).toBeUndefined();
  return problems;
};

describe('InvoiceRowRules: a valid row', () => {
  it('is normalised: trimmed, lower-case e-mail, E.164 phone, canonical zone, minor units', () => {
    const { row, problems } = check({
      customerName: '  Acme   GmbH ',
      email: ' AP@Acme.Example ',
      phone: '030 1234567',
      country: 'de',
      timeZone: 'europe/berlin',
      currency: 'eur',
      amount: ' 1234.5 ',
    });
    expect(problems).toEqual([]);
    expect(row).toMatchObject({
      line: 2,
      customerId: 'C-1',
      contact: {
        name: 'Acme GmbH',
        email: 'ap@acme.example',
        phone: '+49301234567',
        country: 'DE',
        timeZone: 'Europe/Berlin',
      },
      invoiceId: 'INV-1',
      kind: 'invoice',
      status: 'open',
      currency: 'EUR',
      amount: 123450,
      issueDate: '2026-01-15',
      dueDate: '2026-02-14',
      referenceStructured: false,
    });
  });

  it('passes the InvoiceRow schema (the fast paths never let through what zod refuses)', () => {
    const { row } = check({ reference: 'RF18 5390 0754 7034' });
    expect(() => InvoiceRow.parse(row)).not.toThrow();
  });

  it('reads a credit note written with a negative or a positive amount as a positive amount', () => {
    expect(check({ type: 'credit_note', amount: '-25.00' }).row).toMatchObject({
      kind: 'credit_note',
      amount: 2500,
    });
    expect(check({ type: 'CN', amount: '25' }).row).toMatchObject({ kind: 'credit_note', amount: 2500 });
    expect(check({ type: 'Credit Note', amount: '+25.00' }).row).toMatchObject({
      kind: 'credit_note',
      amount: 2500,
    });
  });

  it('reads the status: empty is open, cancelled (or canceled) cancels', () => {
    expect(check({ status: 'Cancelled' }).row?.status).toBe('cancelled');
    expect(check({ status: 'canceled' }).row?.status).toBe('cancelled');
    expect(check({ status: 'OPEN' }).row?.status).toBe('open');
  });

  it('honours the decimal comma and the date format of the tenant', () => {
    const format = { decimalSeparator: ',' as const, dateFormat: 'DD.MM.YYYY' as const };
    expect(
      check({ amount: '1234,56', issueDate: '1.2.2026', dueDate: '01.03.2026' }, format).row,
    ).toMatchObject({
      amount: 123456,
      issueDate: '2026-02-01',
      dueDate: '2026-03-01',
    });
    expect(
      check({ issueDate: '02/01/2026', dueDate: '03/01/2026' }, { dateFormat: 'MM/DD/YYYY' }).row,
    ).toMatchObject({ issueDate: '2026-02-01', dueDate: '2026-03-01' });
    expect(
      check({ issueDate: '02/01/2026', dueDate: '03/01/2026' }, { dateFormat: 'DD/MM/YYYY' }).row,
    ).toMatchObject({ issueDate: '2026-01-02', dueDate: '2026-01-03' });
  });

  it('keeps a creditor reference with correct check digits in electronic form, and others as free text', () => {
    expect(check({ reference: 'rf18 5390 0754 7034' }).row).toMatchObject({
      reference: 'RF18539007547034',
      referenceStructured: true,
    });
    expect(check({ reference: 'RF19 5390 0754 7034' }).row).toMatchObject({
      reference: 'RF19 5390 0754 7034',
      referenceStructured: false,
    });
    expect(check({ reference: 'Order  77\nline two' }).row).toMatchObject({
      reference: 'Order 77 line two',
      referenceStructured: false,
    });
  });

  it('uses the format default country for phones written in national form on rows without a country', () => {
    expect(check({ country: '', phone: '030 1234567' }, { defaultCountry: 'DE' }).row?.contact.phone).toBe(
      '+49301234567',
    );
    expect(check({ country: '', phone: '+44 20 7946 0123' }).row?.contact.phone).toBe('+442079460123');
  });

  it('accepts a row with only the required fields', () => {
    const { row } = check({ email: '', phone: '', country: '', timeZone: '' });
    expect(row?.contact).toEqual({ name: 'Acme GmbH' });
  });
});

describe('InvoiceRowRules: rejected fields, each with a reason a person can act on', () => {
  it.each<[InvoiceField, string, RegExp]>([
    ['customerId', '', /missing/],
    ['customerId', 'C#1', /must not contain "#"/],
    ['customerName', '   ', /missing/],
    ['customerName', 'Acme\u0007Ltd', /control character/],
    ['customerName', 'x'.repeat(201), /longer than 200/],
    ['invoiceId', 'x'.repeat(129), /longer than 128/],
    ['email', 'not-an-email', /e-mail address/],
    ['email', 'a@b', /e-mail address/],
    ['phone', '12', /not a valid phone number|not a phone number/],
    ['phone', 'call me', /not a phone number/],
    ['country', 'Germany', /ISO 3166/],
    ['country', 'UK', /United Kingdom is GB/],
    ['timeZone', 'Mars/Olympus', /IANA time zone/],
    ['type', 'proforma', /"invoice" or "credit_note"/],
    ['status', 'paid', /"open" or "cancelled"/],
    ['currency', 'EURO', /three-letter ISO 4217/],
    ['currency', 'XAU', /not an active ISO 4217/],
    ['amount', '', /missing/],
    ['amount', '12.345', /3 decimals, but EUR has 2/],
    ['amount', '1e3', /plain decimal/],
    ['amount', '0.00', /zero/],
    ['amount', '-5.00', /negative, but the row is an invoice/],
    ['amount', '12,50', /has ",", but this tenant's format uses "."/],
    ['amount', '1,234.50', /thousands separator/],
    ['issueDate', '15.01.2026', /YYYY-MM-DD/],
    ['issueDate', '2026-02-30', /real calendar date/],
    ['issueDate', '1850-01-01', /outside 1900-2199/],
    ['dueDate', '2026-01-14', /before the issue date 2026-01-15/],
  ])('%s = %j', (field, value, reason) => {
    const problems = problemOf({ [field]: value });
    expect(problems).toContainEqual({ field, value, reason: expect.stringMatching(reason) });
  });

  it('rejects JPY amounts with decimals', () => {
    expect(problemOf({ currency: 'JPY', amount: '100.5' })).toContainEqual(
      expect.objectContaining({ field: 'amount', reason: expect.stringContaining('JPY has no minor unit') }),
    );
  });

  it('rejects a phone written in national form when the row names no country', () => {
    expect(problemOf({ country: '', phone: '030 1234567' })).toContainEqual(
      expect.objectContaining({ field: 'phone', reason: expect.stringContaining('names no country') }),
    );
  });

  it('lists every problem of a row, not just the first', () => {
    const fields = problemOf({ email: 'x', currency: 'EURO', dueDate: 'soon' }).map(
      (problem) => problem.field,
    );
    expect(fields).toEqual(['email', 'currency', 'dueDate']);
  });

  it.each(['=1+1', '+1+1', '-1+1', '@SUM(A1)', '\t=1', '\r=1'])(
    'rejects a name that starts like a formula: %j',
    (name) => {
      expect(problemOf({ customerName: name })).toContainEqual(
        expect.objectContaining({ field: 'customerName', reason: expect.stringContaining('formula') }),
      );
    },
  );

  it('applies the formula rule to ids and references too, but lets a phone start with +', () => {
    expect(problemOf({ invoiceId: '=cmd|calc' })[0]?.reason).toContain('formula');
    expect(problemOf({ reference: '@evil' })[0]?.reason).toContain('formula');
    expect(problemOf({ phone: '=1234567' })[0]?.reason).toContain('formula');
    expect(check({ phone: '+49 30 1234567' }).row?.contact.phone).toBe('+49301234567');
  });

  it("re-reads a customer's contact when it changes between rows, and reuses it while it repeats", () => {
    const rules = rulesFor();
    const values = (fields: Partial<Record<InvoiceField, string>>) =>
      FIELDS.map((field) => ({ ...BASE, ...fields })[field] ?? '');
    const problems: FieldProblem[] = [];
    const first = rules.read(values({ invoiceId: 'A' }), 2, problems);
    const second = rules.read(values({ invoiceId: 'B' }), 3, problems);
    expect(second?.contact).toBe(first?.contact);
    const third = rules.read(values({ invoiceId: 'C', email: 'new@acme.example' }), 4, problems);
    expect(third?.contact.email).toBe('new@acme.example');
    const fourth = rules.read(values({ invoiceId: 'D', email: 'broken' }), 5, problems);
    expect(fourth).toBeUndefined();
    expect(problems).toEqual([expect.objectContaining({ field: 'email', value: 'broken' })]);
    problems.length = 0;
    expect(rules.read(values({ invoiceId: 'E', email: 'broken' }), 6, problems)).toBeUndefined();
    expect(problems).toEqual([expect.objectContaining({ field: 'email', value: 'broken' })]);
  });
});

/** Field values a file may hold: the usual ones and every kind of oddity the rules handle. */
const VARIANTS: Record<InvoiceField, string[]> = {
  customerId: ['C-1', 'C-2', 'C-3', ' C-1', 'C-1 ', '=C-1', 'C#1', '', 'Ł-1', '\tC-2'],
  customerName: [
    'Acme GmbH',
    'Acme GmbH',
    ' Acme GmbH',
    'Acme  GmbH',
    '=HYPERLINK()',
    '',
    'Zoë Ångström',
    'a\u0001b',
    'x'.repeat(201),
    'Two\nLines',
  ],
  email: [
    'ap@acme.example',
    'ap@acme.example',
    'AP@Acme.Example',
    '',
    'not an email',
    ' ap@acme.example',
    '@x',
    '+x@y.de',
  ],
  phone: ['', '+49 30 1234567', '+49 30 1234567', '030 1234567', '+1 212 555 0100', '12', '=1', '-1'],
  country: ['DE', 'DE', '', 'de', 'UK', 'XX', ' DE'],
  timeZone: ['', '', 'Europe/Berlin', 'europe/berlin', 'Mars/Base', '=x', ' Europe/Berlin'],
  invoiceId: ['INV-1', 'INV-1', ' INV-3', 'INV#4', '', '@5', 'INV-ü'],
  type: ['', '', 'invoice', 'CN', 'credit note', 'Credit_Note', ' cn', 'proforma', '\tcn', '   '],
  status: ['', '', 'open', 'Cancelled', 'canceled', 'closed', ' open'],
  currency: ['EUR', 'EUR', 'eur', 'JPY', 'XXX', 'EURO', ' EUR', '', 'usd', 'Eur'],
  amount: [
    '100.00',
    '100,00',
    '-25.00',
    '+25',
    '0',
    '0.00',
    '-0',
    '1.234',
    '1,234.00',
    '1.234,50',
    ' 10',
    '10 ',
    'abc',
    '',
    '99999999999999999',
    '10.5',
    '7',
  ],
  issueDate: [
    '2026-01-15',
    '2026-01-15',
    '2026-02-30',
    '2026-13-01',
    '15.01.2026',
    '1.2.2026',
    '',
    ' 2026-01-15',
    '1899-12-31',
    '2200-01-01',
    '2026-1-5',
  ],
  dueDate: [
    '2026-02-14',
    '2026-02-14',
    '2026-01-14',
    '14.02.2026',
    '01.03.2026',
    '2024-02-29',
    '2100-02-29',
    '',
    '2026-02-14 ',
  ],
  reference: [
    '',
    '',
    'RF18539007547034',
    'RF18 5390 0754 7034',
    'rf18539007547034',
    'RF00539007547034',
    'Order 1',
    '=cmd',
    'x'.repeat(141),
    ' Order',
    'Order  1',
  ],
};

/** The usual value of a field in a file of this format. */
const usual = (field: InvoiceField, format: InvoiceFormat): string => {
  const german = format.dateFormat === 'DD.MM.YYYY';
  if (field === 'amount') return format.decimalSeparator === '.' ? '100.00' : '100,00';
  if (field === 'issueDate') return german ? '15.01.2026' : '2026-01-15';
  if (field === 'dueDate') return german ? '14.02.2026' : '2026-02-14';
  return VARIANTS[field][0]!;
};

/** Per field: undefined for its usual value (most often, so many rows take the range path), or a variant. */
const rowArbitrary = fc.record(
  Object.fromEntries(
    FIELDS.map((field) => [
      field,
      fc.oneof(
        { weight: 6, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: fc.constantFrom(...VARIANTS[field]) },
      ),
    ]),
  ) as Record<InvoiceField, fc.Arbitrary<string | undefined>>,
);

describe('InvoiceRowRules.readRanges: the same verdicts as read, for rows given as ranges', () => {
  it('returns what read returns for a plainly valid row, and hands every other row back', () => {
    const optional: InvoiceField[] = ['email', 'phone', 'country', 'timeZone', 'type', 'status', 'reference'];
    fc.assert(
      fc.property(
        fc.shuffledSubarray(optional),
        fc.boolean(),
        fc.record({
          decimalSeparator: fc.constantFrom<'.' | ','>('.', ','),
          dateFormat: fc.constantFrom<InvoiceFormat['dateFormat']>('YYYY-MM-DD', 'DD.MM.YYYY'),
          defaultCountry: fc.constantFrom(undefined, 'DE'),
        }),
        fc.array(rowArbitrary, { minLength: 1, maxLength: 12 }),
        // The text decoded, or as byte text (UTF-8 bytes one character each, see byte-text.ts).
        fc.boolean(),
        (present, shuffle, format, rows, byteText) => {
          // A header with some optional columns missing, in file order or shuffled.
          const header = FIELDS.filter((field) => !optional.includes(field) || present.includes(field));
          if (shuffle) header.reverse();
          const verdict = resolveHeader(header, {});
          if (!verdict.ok) throw new Error(verdict.reason);
          const parsed = InvoiceFormat.parse(format);
          // Both rule sets see the same rows in the same order: their caches must not matter.
          const ranged = new InvoiceRowRules(parsed, verdict.plan);
          const reference = new InvoiceRowRules(parsed, verdict.plan);
          rows.forEach((row, index) => {
            const values = header.map((field) => row[field] ?? usual(field, parsed));
            // The record inside a longer text, as the tokenizer hands it over.
            let text = 'junk before\n';
            const starts = new Int32Array(values.length);
            const ends = new Int32Array(values.length);
            values.forEach((value, k) => {
              if (k > 0) text += ';';
              starts[k] = text.length;
              text += byteText ? toByteText(Buffer.from(value, 'utf8')) : value;
              ends[k] = text.length;
            });
            text += '\njunk after';
            const line = index + 2;
            const expectedProblems: FieldProblem[] = [];
            const expected = reference.read(values, line, expectedProblems);
            const fast = ranged.readRanges(text, starts, ends, line, byteText);
            if (fast !== undefined) {
              expect(expectedProblems).toEqual([]);
              expect(fast).toEqual(expected);
              expect(ranged.lastContact).toBe(fast.contact);
            } else {
              const problems: FieldProblem[] = [];
              expect(ranged.read(values, line, problems)).toEqual(expected);
              expect(problems).toEqual(expectedProblems);
            }
          });
        },
      ),
      { numRuns: 400 },
    );
  });

  it('takes the usual row without handing it back, and shares strings between rows', () => {
    const rules = rulesFor();
    const record = (fields: Partial<Record<InvoiceField, string>>) => {
      const values = FIELDS.map((field) => ({ ...BASE, ...fields })[field] ?? '');
      const text = values.join(',');
      const starts = new Int32Array(values.length);
      const ends = new Int32Array(values.length);
      let at = 0;
      values.forEach((value, k) => {
        starts[k] = at;
        ends[k] = at + value.length;
        at += value.length + 1;
      });
      return { text, starts, ends };
    };
    const a = record({ invoiceId: 'A', reference: 'RF18539007547034' });
    const b = record({ invoiceId: 'B', type: 'CN', amount: '-5.00' });
    const first = rules.readRanges(a.text, a.starts, a.ends, 2);
    const second = rules.readRanges(b.text, b.starts, b.ends, 3);
    expect(first).toMatchObject({ invoiceId: 'A', reference: 'RF18539007547034', referenceStructured: true });
    expect(second).toMatchObject({ invoiceId: 'B', kind: 'credit_note', amount: 500 });
    expect(second?.contact).toBe(first?.contact);
    expect(second?.customerId).toBe(first?.customerId);
    expect(rules.lastSlot).toBeGreaterThanOrEqual(0);
    const c = record({ invoiceId: 'C', email: 'other@acme.example' });
    expect(rules.readRanges(c.text, c.starts, c.ends, 4)?.contact.email).toBe('other@acme.example');
  });
});

/** Control characters (\p{Cc}) other than tab, CR and LF, which text fields refuse. */
const hasControl = (value: string): boolean =>
  [...value].some((char) => {
    const code = char.charCodeAt(0);
    return (code < 32 && code !== 9 && code !== 10 && code !== 13) || (code >= 127 && code <= 159);
  });

/** The day number `isoDaySlotAt` gives for the YYYYMMDD of `isoDateAt` (-1 stays -1). */
const daySlot = (key: number): number =>
  key < 0
    ? -1
    : (Math.floor(key / 10_000) - 1900) * 372 + ((Math.floor(key / 100) % 100) - 1) * 31 + (key % 100) - 1;

describe('fast paths agree with the zod schemas and parseAmount', () => {
  const text = (units: string[], maxLength = 20) => fc.string({ unit: fc.constantFrom(...units), maxLength });

  it('isExternalId matches ExternalId for trimmed values', () => {
    fc.assert(
      fc.property(
        text(['a', 'Z', '0', '-', '#', ' ', '\u0000', '\u0085', '\u009f', 'é', '\t'], 140),
        (value) => {
          const trimmed = value.trim();
          expect(isExternalId(trimmed)).toBe(ExternalId.safeParse(trimmed).success);
        },
      ),
      { numRuns: 500 },
    );
    expect(isExternalId('x'.repeat(128))).toBe(true);
    expect(isExternalId('x'.repeat(129))).toBe(false);
  });

  it('isEmail matches the e-mail regex of zod', () => {
    const units = ['a', 'B', '0', '.', '@', '-', '_', "'", '+', 'é', ' ', 'c', 'o', 'm'];
    fc.assert(
      fc.property(
        fc.oneof(
          text(units, 24),
          fc.tuple(text(units, 8), text(units, 12)).map(([l, d]) => `${l}@${d}`),
        ),
        (value) => {
          expect(isEmail(value)).toBe(z.regexes.email.test(value));
        },
      ),
      { numRuns: 2000 },
    );
    for (const value of [
      'a@b.co',
      "o'brien@x.ie",
      'a.b@c-d.example',
      '.a@b.co',
      "a'@b.co",
      'a@-b.co',
      'a@b.c0',
      'a@b.c',
      'a..b@c.de',
    ]) {
      expect(isEmail(value), value).toBe(z.regexes.email.test(value));
    }
  });

  it('quickAmount gives what parseAmount gives, or leaves the case to it', () => {
    fc.assert(
      fc.property(
        text(['0', '1', '9', '.', ',', '-', '+', ' ', 'e'], 18),
        fc.constantFrom('EUR', 'JPY', 'KWD', 'CLF'),
        fc.constantFrom<'.' | ','>('.', ','),
        (value, currency, separator) => {
          const exponent = { EUR: 2, JPY: 0, KWD: 3, CLF: 4 }[currency]!;
          const quick = quickAmount(value, exponent, separator.charCodeAt(0));
          let slow: number | undefined;
          try {
            slow = parseAmount(value, currency, { decimalSeparator: separator });
          } catch (error) {
            expect(error).toBeInstanceOf(AmountFormatError);
          }
          if (quick !== undefined) expect(quick).toBe(slow);
          if (slow !== undefined && value.trim() === value && value.length <= 16) expect(quick).toBe(slow);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('the ISO date reader accepts exactly what IsoDate accepts (within 1900-2199)', () => {
    const read = dateReader('YYYY-MM-DD');
    fc.assert(
      fc.property(
        fc.integer({ min: 1900, max: 2199 }),
        fc.integer({ min: 0, max: 13 }),
        fc.integer({ min: 0, max: 32 }),
        (y, m, d) => {
          const value = `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
          expect(typeof read(value) === 'string').toBe(IsoDate.safeParse(value).success);
        },
      ),
      { numRuns: 2000 },
    );
    expect(read('2024-02-29')).toBe('2024-02-29');
    expect(read('2100-02-29')).toEqual({ reason: 'is not a real calendar date' });
    expect(read('2026-1-05')).toEqual({ reason: 'must be a date written YYYY-MM-DD' });
  });

  it('the range readers give what the string readers give for the same text', () => {
    const read = dateReader('YYYY-MM-DD');
    fc.assert(
      fc.property(
        text(['0', '1', '2', '9', '-', '.', ' ', 'a', '#', 'é'], 14),
        text(['x', ',', ' '], 3),
        text(['y', ',', ' '], 3),
        (value, before, after) => {
          const line = `${before}${value}${after}`;
          const start = before.length;
          const end = start + value.length;
          const date = read(value);
          const key = isoDateAt(line, start, end);
          expect(key >= 0).toBe(typeof date === 'string');
          if (typeof date === 'string') expect(key).toBe(Number(date.replaceAll('-', '')));
          expect(isoDaySlotAt(line, start, end)).toBe(daySlot(key));
          expect(isExternalIdAt(line, start, end)).toBe(isExternalId(value));
          expect(quickAmountAt(line, start, end, 2, 46)).toBe(quickAmount(value, 2, 46));
        },
      ),
      { numRuns: 2000 },
    );
    expect(isoDateAt('2024-02-29', 0, 10)).toBe(20240229);
    expect(isoDateAt('x2100-02-29', 1, 11)).toBe(-1);
  });

  it('numbers exactly the dates isoDateAt reads, one number per date', () => {
    const digit = fc.constantFrom(...'0123456789', '/', 'a', '٣');
    fc.assert(
      fc.property(
        fc.constantFrom('18', '19', '20', '21', '22', '0', '2'),
        fc.array(digit, { minLength: 2, maxLength: 2 }),
        fc.array(digit, { minLength: 2, maxLength: 2 }),
        fc.array(digit, { minLength: 2, maxLength: 2 }),
        (century, year, month, day) => {
          const value = `${century}${year.join('')}-${month.join('')}-${day.join('')}`;
          const line = `,${value},`;
          expect(isoDaySlotAt(line, 1, 1 + value.length)).toBe(daySlot(isoDateAt(line, 1, 1 + value.length)));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('isCreditorReference agrees with the ISO 11649 rule computed with big integers', () => {
    const byRule = (value: string): boolean => {
      if (!/^RF\d{2}[A-Z0-9]{1,21}$/.test(value)) return false;
      const rotated = value.slice(4) + value.slice(0, 4);
      const digits = [...rotated]
        .map((char) => (/\d/.test(char) ? char : String(char.charCodeAt(0) - 55)))
        .join('');
      return BigInt(digits) % 97n === 1n;
    };
    fc.assert(
      fc.property(
        fc.oneof(
          text(['R', 'F', '0', '1', '8', '9', 'A', 'Z', 'a', ' '], 26).map((body) => `RF${body}`),
          text(['0', '1', '2', '5', '9', 'A', 'K', 'Z'], 21).map((body) => creditorReference(body || '1')),
        ),
        (value) => {
          expect(isCreditorReference(value)).toBe(byRule(value));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('cleanText folds whitespace like /\\s+/ and refuses control characters', () => {
    fc.assert(
      fc.property(
        text(['a', ' ', '\t', '\n', '\r', '\u00a0', '\u2009', '\u0001', '\u007f', 'é'], 20),
        (value) => {
          const clean = cleanText(value);
          if (hasControl(value)) expect(clean).toBeUndefined();
          else
            expect(clean).toBe(/\s{2,}|[\t\n\r\f\v\u00a0]/.test(value) ? value.replace(/\s+/g, ' ') : value);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('creditor references (ISO 11649)', () => {
  it('validates the check digits by mod 97', () => {
    expect(isCreditorReference('RF18539007547034')).toBe(true);
    expect(isCreditorReference('RF18539007547035')).toBe(false);
    expect(isCreditorReference('RF18')).toBe(false);
    expect(isCreditorReference(`RF00${'1'.repeat(22)}`)).toBe(false);
  });

  it('builds references whose check digits validate, for any body', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...'0123456789ABCXYZ'), minLength: 1, maxLength: 21 }),
        (body) => {
          expect(isCreditorReference(creditorReference(body))).toBe(true);
        },
      ),
    );
  });

  it('reads spaced and lower-case references, and leaves other text alone', () => {
    expect(readReference('rf18 5390 0754 7034')).toEqual({ reference: 'RF18539007547034', structured: true });
    expect(readReference('Rechnung 2026-01')).toEqual({ reference: 'Rechnung 2026-01', structured: false });
  });
});

describe('spreadsheet safety', () => {
  it('neutralises values that start like a formula and nothing else', () => {
    for (const value of ['=1+1', '+1', '-1', '@A1', '\tx', '\rx']) {
      expect(startsLikeFormula(value)).toBe(true);
      expect(neutraliseForSpreadsheet(value)).toBe(`'${value}`);
    }
    expect(neutraliseForSpreadsheet('Acme')).toBe('Acme');
    expect(neutraliseForSpreadsheet('')).toBe('');
  });

  it('quotes CSV fields that need it, after neutralising', () => {
    expect(spreadsheetCsvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(spreadsheetCsvField('a,b')).toBe('"a,b"');
    expect(spreadsheetCsvField('a;b', ';')).toBe('"a;b"');
    expect(spreadsheetCsvField('two\nlines')).toBe('"two\nlines"');
    expect(spreadsheetCsvField('plain')).toBe('plain');
  });
});

describe('rowDigest', () => {
  it('changes with what the invoice says and not with where it stands', () => {
    const { row } = check({});
    const again = check({ customerName: 'Other Name', phone: '' }).row!;
    expect(rowDigest(again)).toBe(rowDigest(row!));
    expect(rowDigest({ ...row!, amount: row!.amount + 1 })).not.toBe(rowDigest(row!));
    expect(rowDigest({ ...row!, status: 'cancelled' })).not.toBe(rowDigest(row!));
    expect(rowDigest(row!)).toMatch(/^[0-9a-f]{64}$/);
  });
});
