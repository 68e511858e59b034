import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AccountRows } from '../../../shared/ingest/parse-invoice-file';
import { parseBytes, rowsOf } from './support';

const COLUMNS = [
  'customerId',
  'customerName',
  'email',
  'country',
  'invoiceId',
  'type',
  'currency',
  'amount',
  'issueDate',
  'dueDate',
  'reference',
] as const;
type Column = (typeof COLUMNS)[number];

/** What a generated row should come to: taken, or rejected for this field. */
type Expectation = { valid: true } | { valid: false; field: Column | 'row' };

const MUTATIONS: { field: Column | 'row'; apply: (row: Record<Column, string>) => void }[] = [
  { field: 'amount', apply: (row) => (row.amount = 'abc') },
  { field: 'amount', apply: (row) => (row.amount = '1.234') },
  { field: 'currency', apply: (row) => (row.currency = 'EURO') },
  { field: 'issueDate', apply: (row) => (row.issueDate = '2026-02-30') },
  { field: 'dueDate', apply: (row) => (row.dueDate = '2025-12-31') },
  { field: 'customerName', apply: (row) => (row.customerName = '=1+1') },
  { field: 'customerName', apply: (row) => (row.customerName = '') },
  { field: 'email', apply: (row) => (row.email = 'not an email') },
  { field: 'type', apply: (row) => (row.type = 'proforma') },
  { field: 'country', apply: (row) => (row.country = 'XX') },
];

const rowArbitrary = fc.record({
  customer: fc.integer({ min: 0, max: 5 }),
  name: fc.string({
    unit: fc.constantFrom('a', 'B', ' ', ',', ';', '"', '\n', 'é', 'Ł'),
    minLength: 1,
    maxLength: 10,
  }),
  withEmail: fc.boolean(),
  cents: fc.integer({ min: 1, max: 10_000_000 }),
  creditNote: fc.boolean(),
  /** -1: valid; -2: wrong column count; -3: duplicate invoice id; else a mutation. */
  fault: fc.oneof(
    { weight: 3, arbitrary: fc.constant(-1) },
    { weight: 2, arbitrary: fc.integer({ min: 0, max: MUTATIONS.length - 1 }) },
    { weight: 1, arbitrary: fc.constantFrom(-2, -3) },
  ),
  blankAfter: fc.boolean(),
});

const fileArbitrary = fc.record({
  delimiter: fc.constantFrom(',', ';'),
  lineEnd: fc.constantFrom('\n', '\r\n'),
  bom: fc.boolean(),
  quoteAll: fc.boolean(),
  chunkSize: fc.integer({ min: 1, max: 200 }),
  rows: fc.array(rowArbitrary, { minLength: 1, maxLength: 25 }),
});

describe('parseInvoiceFile on generated files', () => {
  it('reads every row: rowsRead = valid + rejected, each bad row rejected at its line for its field', async () => {
    await fc.assert(
      fc.asyncProperty(fileArbitrary, async ({ delimiter, lineEnd, bom, quoteAll, chunkSize, rows }) => {
        const encode = (value: string) =>
          quoteAll || value.includes(delimiter) || /["\r\n]/.test(value)
            ? `"${value.replaceAll('"', '""')}"`
            : value;
        let text = `${bom ? '\uFEFF' : ''}${COLUMNS.join(delimiter)}${lineEnd}`;
        let line = 2;
        const expected: { line: number; expectation: Expectation }[] = [];
        const validIds: string[] = [];
        rows.forEach((generated, index) => {
          const row: Record<Column, string> = {
            customerId: `C-${generated.customer}`,
            customerName: `N ${generated.name}`,
            email: generated.withEmail ? `c${generated.customer}@example.com` : '',
            country: 'DE',
            invoiceId: `I-${index}`,
            type: generated.creditNote ? 'credit_note' : '',
            currency: 'EUR',
            amount: `${generated.creditNote ? '-' : ''}${Math.floor(generated.cents / 100)}.${String(generated.cents % 100).padStart(2, '0')}`,
            issueDate: '2026-01-15',
            dueDate: '2026-02-14',
            reference: index % 3 === 0 ? 'RF18539007547034' : '',
          };
          let expectation: Expectation = { valid: true };
          let cells = COLUMNS.map((column) => encode(row[column]));
          if (generated.fault >= 0) {
            const mutation = MUTATIONS[generated.fault]!;
            mutation.apply(row);
            cells = COLUMNS.map((column) => encode(row[column]));
            expectation = { valid: false, field: mutation.field };
          } else if (generated.fault === -2) {
            cells = cells.slice(0, 4);
            expectation = { valid: false, field: 'row' };
          } else if (generated.fault === -3 && validIds.length > 0) {
            row.invoiceId = validIds[generated.customer % validIds.length]!;
            cells = COLUMNS.map((column) => encode(row[column]));
            expectation = { valid: false, field: 'invoiceId' };
          }
          if (expectation.valid) validIds.push(row.invoiceId);
          const serialized = cells.join(delimiter);
          expected.push({ line, expectation });
          text += serialized + lineEnd;
          line += serialized.split('\n').length;
          if (generated.blankAfter) {
            text += lineEnd;
            line++;
          }
        });

        const { batches, summary } = await parseBytes(text, {}, { chunkSize });
        expect(summary.fileRejection).toBeUndefined();
        expect(summary.rowsRead).toBe(rows.length);
        expect(summary.valid + summary.rejected).toBe(summary.rowsRead);
        expect(rowsOf(batches).map((row) => row.line)).toEqual(
          expected.filter((entry) => entry.expectation.valid).map((entry) => entry.line),
        );
        for (const { line: at, expectation } of expected) {
          if (expectation.valid) continue;
          expect(summary.rejects, `line ${at}`).toContainEqual(
            expect.objectContaining({ line: at, field: expectation.field }),
          );
        }
        expect(new Set(summary.rejects.map((reject) => reject.line)).size).toBe(summary.rejected);
      }),
      { numRuns: 300 },
    );
  });
});

/** Cells a file may hold per column: usual first, then valid oddities and faults. */
const CELLS: Record<Column, string[]> = {
  customerId: ['C-1', 'C-2', 'C-3', 'C-4', ' C-1', 'C#5', ''],
  customerName: [
    'Acme GmbH',
    'Müller & Söhne',
    'Smith, Jones',
    ' Acme GmbH',
    'Acme  GmbH',
    '=1+1',
    '',
    'Line\nbreak',
  ],
  email: ['ap@acme.example', '', 'AP@Acme.Example', 'shared@x.example', 'not an email'],
  country: ['DE', 'DE', 'de', '', 'UK'],
  invoiceId: ['I-1', 'I-2', 'I-3', 'I-4', 'I-5', 'I-6', ' I-7', ''],
  type: ['', '', 'credit_note', 'CN', 'proforma', ' cn'],
  currency: ['EUR', 'EUR', 'JPY', 'eur', 'XXX', ''],
  amount: ['10.00', '-10.00', '12', '0', '1.234', ' 5.00', 'abc', '1,000.00'],
  issueDate: ['2026-01-15', '2026-01-15', '2026-02-30', ' 2026-01-15', ''],
  dueDate: ['2026-02-14', '2026-02-14', '2025-12-31', '2026-02-14 '],
  reference: ['', 'RF18539007547034', 'RF18 5390 0754 7034', 'Order 1', '=cmd'],
};

const cellsArbitrary = fc.record(
  Object.fromEntries(
    COLUMNS.map((column) => [
      column,
      fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(...CELLS[column].slice(0, 2)) },
        { weight: 1, arbitrary: fc.constantFrom(...CELLS[column]) },
      ),
    ]),
  ) as Record<Column, fc.Arbitrary<string>>,
);

describe('parseInvoiceFile: the fast path (records read in place) changes nothing', () => {
  it('gives the same batches, rejects and summary as when every record comes as strings', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(',', ';'),
        fc.constantFrom('\n', '\r\n'),
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 1, max: 6 }),
        fc.array(cellsArbitrary, { minLength: 1, maxLength: 30 }),
        async (delimiter, lineEnd, chunkSize, batchRows, rows) => {
          const encode = (value: string) =>
            value.includes(delimiter) || /["\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
          // The same file twice, the second with an empty field after the last column of every
          // row: a record longer than the header is never taken as ranges, so every record
          // comes as strings (the reference path), and the empty surplus is accepted.
          const file = (surplus: boolean) =>
            [
              COLUMNS.join(delimiter),
              ...rows.map(
                (row) =>
                  COLUMNS.map((column) => encode(row[column])).join(delimiter) + (surplus ? delimiter : ''),
              ),
            ].join(lineEnd) + lineEnd;
          const fast = await parseBytes(file(false), {}, { chunkSize, batchRows });
          const reference = await parseBytes(file(true), {}, { chunkSize, batchRows });
          expect(fast.batches).toEqual(reference.batches);
          // Each batch: its rows grouped per customer in order of appearance, with the contact of
          // the customer's latest row; batches in file order.
          let lastLine = 0;
          fast.batches.forEach((batch, index) => {
            expect(batch.index).toBe(index);
            const inBatch = batch.accounts.flatMap((account) => account.rows).sort((a, b) => a.line - b.line);
            expect(batch.rowCount).toBe(inBatch.length);
            expect(batch.rowCount).toBeLessThanOrEqual(batchRows);
            expect(inBatch[0]!.line).toBeGreaterThan(lastLine);
            lastLine = inBatch.at(-1)!.line;
            const groups = new Map<string, AccountRows>();
            for (const row of inBatch) {
              const group = groups.get(row.customerId);
              if (group) {
                group.rows.push(row);
                group.contact = row.contact;
              } else
                groups.set(row.customerId, { customerId: row.customerId, contact: row.contact, rows: [row] });
            }
            expect(batch.accounts).toEqual([...groups.values()]);
          });
          const { checksum, bytes, ...summary } = fast.summary;
          const { checksum: _c, bytes: _b, ...expected } = reference.summary;
          expect(summary).toEqual(expected);
        },
      ),
      { numRuns: 200 },
    );
  });
});
