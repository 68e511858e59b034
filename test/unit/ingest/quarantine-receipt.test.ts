import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import type { RowReject } from '../../../shared/ingest/invoice-row';
import type { IngestSummary } from '../../../shared/ingest/parse-invoice-file';
import {
  createQuarantineWriter,
  quarantineHeader,
  renderQuarantineCsv,
} from '../../../shared/ingest/quarantine';
import { buildReceipt, Receipt, ReceiptInvariantError, totalsOf } from '../../../shared/ingest/receipt';
import { parseFixture } from './support';

const REJECTS: RowReject[] = [
  {
    line: 2,
    field: 'customerName',
    value: '=HYPERLINK("http://evil.example","x")',
    reason: 'starts with "="',
  },
  { line: 5, field: 'amount', value: '12,5', reason: 'has ",", but the format uses "."' },
  { line: 9, field: 'row', value: 'a\nb', reason: 'has 2 columns, but the header has 7' },
];

describe('quarantine CSV', () => {
  it('lists line, field, value and reason, with values neutralised and quoted, behind a BOM', () => {
    const text = renderQuarantineCsv(REJECTS);
    expect(text.startsWith('\uFEFFline,field,value,reason\r\n')).toBe(true);
    const records = parse(text.slice(1), { columns: true }) as Record<string, string>[];
    expect(records).toEqual([
      {
        line: '2',
        field: 'customerName',
        value: `'=HYPERLINK("http://evil.example","x")`,
        reason: 'starts with "="',
      },
      { line: '5', field: 'amount', value: '12,5', reason: 'has ",", but the format uses "."' },
      { line: '9', field: 'row', value: 'a\nb', reason: 'has 2 columns, but the header has 7' },
    ]);
  });

  it('writes the same file when streamed, and nothing at all without rejects', () => {
    const parts: string[] = [];
    const writer = createQuarantineWriter((text) => parts.push(text), { delimiter: ';' });
    expect(writer.count).toBe(0);
    for (const reject of REJECTS) writer.onReject(reject);
    expect(writer.count).toBe(3);
    expect(parts.join('')).toBe(renderQuarantineCsv(REJECTS, { delimiter: ';' }));
    expect(parts[0]).toBe(quarantineHeader({ delimiter: ';' }));
  });

  it('collects every reject of a parsed file, beyond the summary cap', async () => {
    const parts: string[] = [];
    const writer = createQuarantineWriter((text) => parts.push(text));
    const { summary } = await parseFixture(
      'hostile-formulas.csv',
      {},
      { onReject: writer.onReject, maxRejectsKept: 1 },
    );
    expect(writer.count).toBe(5);
    expect(summary.rejectsOmitted).toBe(4);
    const records = parse(parts.join('').slice(1), { columns: true }) as Record<string, string>[];
    expect(records.map((record) => record.value)).toEqual([
      `'=HYPERLINK("http://evil.example","click")`,
      "'@SUM(A1:A9)",
      "'-2+3+cmd|' /C calc'!A0",
      "'\tTabbed Ltd",
      "'+H-5",
    ]);
  });
});

const summaryOf = (overrides: Partial<IngestSummary> = {}): IngestSummary => ({
  kind: 'summary',
  fileName: 'invoices.csv',
  format: 'csv',
  bytes: 1234,
  checksum: 'a'.repeat(64),
  encoding: 'utf-8',
  delimiter: ',',
  rowsRead: 10,
  valid: 8,
  rejected: 2,
  rejects: [
    { line: 4, field: 'amount', value: 'abc', reason: 'is not a plain decimal number' },
    { line: 7, field: 'email', value: 'x', reason: 'is not an e-mail address' },
  ],
  rejectsOmitted: 0,
  totals: { EUR: 80000 },
  duplicateDebtors: [],
  duplicateDebtorsOmitted: 0,
  ignoredColumns: [],
  ...overrides,
});

describe('buildReceipt', () => {
  it('reports rows read, applied, rejected, totals and rejects without their values', () => {
    const receipt = buildReceipt({
      tenantId: 'acme',
      summary: summaryOf(),
      outcome: { applied: 8 },
      quarantineKey: 'receipts/acme/invoices/invoices.csv.aaaa.quarantine.csv',
    });
    expect(receipt).toMatchObject({
      tenantId: 'acme',
      fileName: 'invoices.csv',
      checksum: 'a'.repeat(64),
      rowsRead: 10,
      applied: 8,
      rejected: 2,
      duplicateFile: false,
      totals: { EUR: 80000 },
      rejects: [
        { line: 4, field: 'amount', reason: 'is not a plain decimal number' },
        { line: 7, field: 'email', reason: 'is not an e-mail address' },
      ],
      quarantine: 'receipts/acme/invoices/invoices.csv.aaaa.quarantine.csv',
    });
    expect(receipt.rejects[0]).not.toHaveProperty('value');
    expect(() => Receipt.parse(receipt)).not.toThrow();
  });

  it('counts rows the store refused as rejected, with their reasons and the applied totals', () => {
    const receipt = buildReceipt({
      tenantId: 'acme',
      summary: summaryOf(),
      outcome: {
        applied: 7,
        rejects: [{ line: 5, field: 'currency', value: 'USD', reason: 'invoice I-5 is partly paid in EUR' }],
        totals: { EUR: 70000 },
      },
    });
    expect(receipt).toMatchObject({ applied: 7, rejected: 3, totals: { EUR: 70000 } });
    expect(receipt.rejects.map((reject) => reject.line)).toEqual([4, 5, 7]);
  });

  it('refuses to build a receipt that would lose a row without a word', () => {
    expect(() => buildReceipt({ tenantId: 'acme', summary: summaryOf(), outcome: { applied: 7 } })).toThrow(
      ReceiptInvariantError,
    );
    expect(() =>
      buildReceipt({
        tenantId: 'acme',
        summary: summaryOf(),
        outcome: { applied: 7, rejects: [{ line: 5, field: 'x', value: '', reason: 'conflict' }] },
      }),
    ).toThrow(/totals/);
  });

  it('says when a file was refused whole, or was ingested before', () => {
    const refused = buildReceipt({
      tenantId: 'acme',
      summary: summaryOf({
        rowsRead: 0,
        valid: 0,
        rejected: 0,
        rejects: [],
        totals: {},
        fileRejection: { code: 'binary', reason: 'the file holds a NUL byte' },
      }),
      outcome: { applied: 0 },
    });
    expect(refused).toMatchObject({
      rowsRead: 0,
      applied: 0,
      rejected: 0,
      fileRejection: { code: 'binary' },
    });
    const again = buildReceipt({
      tenantId: 'acme',
      summary: summaryOf(),
      outcome: { applied: 8, duplicateFile: true },
    });
    expect(again.duplicateFile).toBe(true);
  });

  it('caps the listed rejects and counts the rest', () => {
    const rejects = Array.from({ length: 5 }, (_, i) => ({
      line: i + 2,
      field: 'amount',
      value: '',
      reason: 'bad',
    }));
    const receipt = buildReceipt({
      tenantId: 'acme',
      summary: summaryOf({ rowsRead: 5, valid: 0, rejected: 5, rejects, rejectsOmitted: 3, totals: {} }),
      outcome: { applied: 0 },
      maxRejects: 2,
    });
    expect(receipt.rejects).toHaveLength(2);
    expect(receipt.rejectsOmitted).toBe(6);
  });

  it('sums totals with credit notes subtracting', () => {
    expect(
      totalsOf([
        { kind: 'invoice', amount: 1000, currency: 'EUR' },
        { kind: 'credit_note', amount: 300, currency: 'EUR' },
        { kind: 'invoice', amount: 5, currency: 'JPY' },
      ]),
    ).toEqual({ EUR: 700, JPY: 5 });
  });
});
