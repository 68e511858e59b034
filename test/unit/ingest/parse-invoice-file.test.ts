import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { RowReject } from '../../../shared/ingest/invoice-row';
import { collectInvoiceFile, parseInvoiceFile } from '../../../shared/ingest/parse-invoice-file';
import { csvRow, fixtureBytes, HEADER, parseBytes, parseFixture, rowsOf, sha256 } from './support';

const GERMAN = {
  decimalSeparator: ',' as const,
  dateFormat: 'DD.MM.YYYY' as const,
  columns: {
    customerId: 'Kundennummer',
    customerName: 'Name',
    email: 'E-Mail',
    phone: 'Telefon',
    country: 'Land',
    invoiceId: 'Rechnungsnummer',
    type: 'Belegart',
    currency: 'Währung',
    amount: 'Betrag',
    issueDate: 'Rechnungsdatum',
    dueDate: 'Fälligkeitsdatum',
    reference: 'Verwendungszweck',
  },
};

describe('parseInvoiceFile: formats finance teams produce', () => {
  it('reads UTF-8 with a BOM, CRLF, quoted names with commas, doubled quotes and line breaks', async () => {
    const { batches, summary } = await parseFixture('utf8-bom-comma.csv');
    expect(summary).toMatchObject({
      encoding: 'utf-8',
      delimiter: ',',
      rowsRead: 5,
      valid: 5,
      rejected: 0,
      checksum: sha256(fixtureBytes('utf8-bom-comma.csv')),
      // EUR: 1234.50 invoice - 200.00 credit note.
      totals: { EUR: 103450, GBP: 9999, JPY: 125000, USD: 1500000 },
    });
    const rows = rowsOf(batches);
    expect(rows.map((row) => row.line)).toEqual([2, 3, 4, 5, 7]);
    expect(rows[2]?.contact.name).toBe('Smith, Jones & Co');
    expect(rows[3]?.contact.name).toBe('The "Best" Widgets Ltd');
    expect(rows[0]).toMatchObject({ reference: 'RF18539007547034', referenceStructured: true });
  });

  it("reads semicolons, decimal commas and DD.MM.YYYY under the tenant's own column names", async () => {
    const { batches, summary } = await parseFixture('semicolon-decimal-comma.csv', GERMAN);
    expect(summary).toMatchObject({ delimiter: ';', rowsRead: 5, valid: 3, rejected: 2 });
    expect(rowsOf(batches).map((row) => [row.line, row.kind, row.amount, row.dueDate])).toEqual([
      [2, 'invoice', 123456, '2026-02-14'],
      [3, 'credit_note', 5000, '2026-01-20'],
      [4, 'invoice', 98050, '2026-03-02'],
    ]);
    // Rejects name the columns as the tenant's file does.
    expect(summary.rejects.map((reject) => [reject.line, reject.field])).toEqual([
      [5, 'Betrag'],
      [5, 'Fälligkeitsdatum'],
      [6, 'Belegart'],
      [6, 'Betrag'],
    ]);
    expect(summary.rejects[0]?.reason).toContain('thousands separator');
  });

  it('detects a Windows-1252 file and decodes é, ü, ß and € without garbling them', async () => {
    const { batches, summary } = await parseFixture('windows-1252.csv');
    expect(summary).toMatchObject({ encoding: 'windows-1252', delimiter: ';', valid: 3, rejected: 0 });
    const rows = rowsOf(batches);
    expect(rows.map((row) => row.contact.name)).toEqual([
      'Société Générale de Crème',
      'Müller & Söhne',
      'Straße der Einheit GmbH',
    ]);
    expect(rows[0]?.reference).toBe('Prix 500 € TTC');
  });

  it('reads a Windows-1252 file the same when the format says so', async () => {
    const { summary } = await parseFixture('windows-1252.csv', { encoding: 'windows-1252' });
    expect(summary).toMatchObject({ encoding: 'windows-1252', valid: 3 });
  });

  it('keeps a UTF-8 file with one Windows-1252 row UTF-8, rejecting only that row for its encoding', async () => {
    const { batches, summary } = await parseFixture('utf8-with-1252-row.csv');
    expect(summary).toMatchObject({ encoding: 'utf-8', rowsRead: 3, valid: 2, rejected: 1 });
    expect(summary.rejects).toEqual([
      {
        line: 3,
        field: 'customerName',
        value: 'Ren\uFFFD Dupont',
        reason: expect.stringContaining(
          'not valid UTF-8 (the file is UTF-8; this row has bytes of another encoding)',
        ),
      },
    ]);
    expect(rowsOf(batches).map((row) => row.contact.name)).toEqual(['Zoë Ångström', 'Łukasz Nowak']);
  });

  it('numbers rows by the physical line where they start, across embedded line breaks and blank lines', async () => {
    const { batches, summary } = await parseFixture('embedded-newlines.csv');
    expect(rowsOf(batches).map((row) => row.line)).toEqual([2, 5, 9]);
    expect(rowsOf(batches)[0]?.contact.name).toBe('Acme Corp Accounts Payable Building 3');
    expect(summary.rejects).toEqual([expect.objectContaining({ line: 6, field: 'amount', value: 'abc' })]);
  });

  it("reads CR-only line ends and Excel's sep= hint", async () => {
    const { batches, summary } = await parseFixture('cr-only-sep.csv');
    expect(summary).toMatchObject({ delimiter: ';', valid: 2 });
    expect(rowsOf(batches).map((row) => [row.line, row.contact.name])).toEqual([
      [3, 'Mac Classic Ltd'],
      [4, 'Two Line Ltd'],
    ]);
  });

  it('reads JSON Lines, keeping amounts as written and rejecting a broken line by its number', async () => {
    const { batches, summary } = await parseFixture('invoices.jsonl', { format: 'jsonl' });
    expect(summary).toMatchObject({ format: 'jsonl', delimiter: null, rowsRead: 4, valid: 2, rejected: 2 });
    expect(rowsOf(batches).map((row) => [row.line, row.amount])).toEqual([
      [1, 150000],
      [2, 9990],
    ]);
    expect(summary.rejects).toEqual([
      expect.objectContaining({ line: 3, field: 'row', reason: expect.stringContaining('not valid JSON') }),
      expect.objectContaining({
        line: 5,
        field: 'amount',
        value: '12.345',
        reason: expect.stringContaining('3 decimals'),
      }),
    ]);
  });

  it('maps JSON keys through the column mapping, case-insensitively', async () => {
    const line = JSON.stringify({
      KUNDE: 'K-1',
      name: 'Kunde Eins',
      Rechnung: 'R-1',
      currency: 'EUR',
      amount: 5,
      issueDate: '2026-01-01',
      dueDate: '2026-01-31',
      unrelated: true,
    });
    const { batches } = await parseBytes(`${line}\n`, {
      format: 'jsonl',
      columns: { customerId: 'kunde', customerName: 'Name', invoiceId: 'rechnung' },
    });
    expect(rowsOf(batches)[0]).toMatchObject({ customerId: 'K-1', invoiceId: 'R-1', amount: 500 });
  });

  it('refuses a JSON Lines file whose first line is not an object naming our fields', async () => {
    expect((await parseBytes('customerId,amount\n', { format: 'jsonl' })).summary.fileRejection?.code).toBe(
      'no-header',
    );
    expect((await parseBytes('{"foo":1}\n', { format: 'jsonl' })).summary.fileRejection?.code).toBe(
      'no-header',
    );
    const { summary } = await parseBytes('{"customerId":"C","bad":[1]}\n{"customerId":["x"]}\n', {
      format: 'jsonl',
    });
    expect(summary.rejects.map((reject) => reject.line)).toEqual([1, 1, 1, 1, 1, 1, 2]);
    expect(summary.rejects.at(-1)?.reason).toContain('must be text or a number, not a list');
  });

  it('gives the same result whatever the chunk size', async () => {
    const whole = await parseFixture('utf8-bom-comma.csv');
    for (const chunkSize of [1, 2, 3, 7, 64]) {
      const chunked = await parseFixture('utf8-bom-comma.csv', {}, { chunkSize });
      expect(chunked.summary).toEqual(whole.summary);
      expect(rowsOf(chunked.batches)).toEqual(rowsOf(whole.batches));
    }
  });
});

describe('parseInvoiceFile: whole-file rejections', () => {
  it.each([
    ['binary.bin', 'binary', /NUL byte/],
    ['workbook.xlsx', 'binary', /Excel workbook/],
    ['utf16.csv', 'utf-16', /UTF-16/],
    ['empty.csv', 'empty', /empty/],
    ['header-only.csv', 'no-rows', /header but no rows/],
    ['no-header.csv', 'no-header', /no recognisable header.*"customerId"/],
  ])('%s is rejected as %s, with no rows', async (name, code, reason) => {
    const { batches, summary } = await parseFixture(name);
    expect(batches).toEqual([]);
    expect(summary).toMatchObject({ rowsRead: 0, valid: 0, rejected: 0, rejects: [] });
    expect(summary.fileRejection).toEqual({ code, reason: expect.stringMatching(reason) });
    // The checksum still covers the whole file, for the receipt's name.
    expect(summary.checksum).toBe(sha256(fixtureBytes(name)));
  });

  it('rejects a file of blank lines as empty', async () => {
    expect((await parseBytes('\r\n  \r\n\n')).summary.fileRejection?.code).toBe('empty');
  });

  it('refuses a file over the size limit before reading a byte', async () => {
    const body = new Readable({
      read() {
        throw new Error('must not be read');
      },
    });
    const { summary } = await collectInvoiceFile({
      body,
      size: 2000,
      fileName: 'big.csv',
      format: { maxFileBytes: 1000 },
    });
    expect(summary).toMatchObject({ checksum: null, fileRejection: { code: 'too-large' } });
    expect(summary.fileRejection?.reason).toContain('2000 bytes, more than the limit of 1000');
  });

  it('stops reading when the bytes exceed the limit and the size was not given', async () => {
    const text = `${HEADER}\n${csvRow()}\n`.repeat(50);
    const { summary } = await parseBytes(text, { maxFileBytes: 1000 }, { size: null, chunkSize: 100 });
    expect(summary).toMatchObject({ checksum: null, fileRejection: { code: 'too-large' } });
  });

  it("rejects a header that lacks required columns, naming them in the tenant's words", async () => {
    const { summary } = await parseBytes(
      'Kundennummer,customerName,invoiceId,currency,amount\nK,N,I,EUR,1\n',
      {
        columns: { customerId: 'Kundennummer', dueDate: 'Fällig am' },
      },
    );
    expect(summary.fileRejection).toEqual({
      code: 'missing-columns',
      reason: 'the header lacks the required column(s) "issueDate", "Fällig am"',
    });
  });

  it('says so when the configured delimiter is not the one the file uses', async () => {
    const { summary } = await parseBytes(`${HEADER}\n${csvRow()}\n`, { delimiter: ';' });
    expect(summary.fileRejection).toEqual({
      code: 'no-header',
      reason: expect.stringContaining('(the format says the delimiter is ";", but the line uses ",")'),
    });
  });

  it('rejects a header that names one column twice', async () => {
    const { summary } = await parseBytes(`${HEADER},Amount\n`);
    expect(summary.fileRejection?.code).toBe('duplicate-columns');
    expect(summary.fileRejection?.reason).toContain('columns 9 and 12');
  });

  it('reports a stream shorter than its announced size', async () => {
    const text = `${HEADER}\n${csvRow()}\n`;
    const { summary } = await parseBytes(text, {}, { size: text.length + 10 });
    expect(summary.fileRejection?.code).toBe('size-mismatch');
  });
});

describe('parseInvoiceFile: rows', () => {
  it('rejects a later row with an invoice id already seen, naming the line of the first', async () => {
    const text = [
      HEADER,
      csvRow({ invoiceId: 'A' }),
      csvRow({ invoiceId: 'B' }),
      csvRow({ invoiceId: 'A', amount: '99.00' }),
    ].join('\n');
    const { batches, summary } = await parseBytes(text);
    expect(rowsOf(batches).map((row) => [row.line, row.invoiceId, row.amount])).toEqual([
      [2, 'A', 1000],
      [3, 'B', 1000],
    ]);
    expect(summary.rejects).toEqual([
      {
        line: 4,
        field: 'invoiceId',
        value: 'A',
        reason: 'invoice A appears twice in this file; the row on line 2 is the one taken',
      },
    ]);
  });

  it('rejects rows with the wrong number of columns, but accepts trailing empty ones', async () => {
    const text = [
      HEADER,
      `${csvRow({ invoiceId: 'A' })},,`,
      'C-2,Short Ltd,INV-2',
      `${csvRow({ invoiceId: 'C' })},extra`,
    ].join('\n');
    const { summary } = await parseBytes(text);
    expect(summary.valid).toBe(1);
    expect(summary.rejects).toEqual([
      expect.objectContaining({ line: 3, field: 'row', reason: 'has 3 columns, but the header has 11' }),
      expect.objectContaining({ line: 4, field: 'row', reason: expect.stringContaining('has 12 columns') }),
    ]);
  });

  it('skips lines of nothing but delimiters and spaces: they are not rows', async () => {
    const { summary } = await parseBytes([HEADER, csvRow(), ',,,,,,,,,,', ' , ,', ''].join('\r\n'));
    expect(summary).toMatchObject({ rowsRead: 1, valid: 1, rejected: 0 });
  });

  it('matches header names case-insensitively and lists columns it ignores', async () => {
    const header = ` CUSTOMERID ,CustomerName,invoiceid,Currency,AMOUNT,issueDate,dueDate,Notes`;
    const { summary } = await parseBytes(`${header}\nC-1,Acme,I-1,EUR,1.00,2026-01-01,2026-01-02,whatever\n`);
    expect(summary).toMatchObject({ valid: 1, ignoredColumns: ['Notes'] });
  });

  it('groups rows per customer in each batch, with the contact of its latest row', async () => {
    const text = [
      HEADER,
      csvRow({ customerId: 'A', invoiceId: '1', email: 'old@a.example' }),
      csvRow({ customerId: 'B', invoiceId: '2', email: 'b@b.example' }),
      csvRow({ customerId: 'A', invoiceId: '3', email: 'new@a.example' }),
      csvRow({ customerId: 'A', invoiceId: '4', email: 'new@a.example' }),
      csvRow({ customerId: 'B', invoiceId: '5', email: 'b@b.example' }),
    ].join('\n');
    const { batches } = await parseBytes(text, {}, { batchRows: 3 });
    expect(batches.map((batch) => batch.rowCount)).toEqual([3, 2]);
    expect(
      batches[0]?.accounts.map((account) => [account.customerId, account.contact.email, account.rows.length]),
    ).toEqual([
      ['A', 'new@a.example', 2],
      ['B', 'b@b.example', 1],
    ]);
    expect(
      batches[1]?.accounts.map((account) => [account.customerId, account.rows.map((row) => row.line)]),
    ).toEqual([
      ['A', [5]],
      ['B', [6]],
    ]);
    expect(batches.map((batch) => batch.index)).toEqual([0, 1]);
  });

  it('flags customers that share an e-mail or phone as possible duplicates, once per pair, never merging them', async () => {
    const text = [
      HEADER,
      csvRow({ customerId: 'A', invoiceId: '1', email: 'Shared@Example.com', phone: '030 1234567' }),
      csvRow({ customerId: 'A', invoiceId: '2', email: 'shared@example.com', phone: '030 1234567' }),
      csvRow({ customerId: 'B', invoiceId: '3', email: 'shared@example.com', phone: '' }),
      csvRow({ customerId: 'B', invoiceId: '4', email: 'shared@example.com', phone: '' }),
      csvRow({ customerId: 'C', invoiceId: '5', email: 'c@example.com', phone: '+49 30 1234567' }),
    ].join('\n');
    const { batches, summary } = await parseBytes(text);
    expect(summary.duplicateDebtors).toEqual([
      { customerIds: ['A', 'B'], via: 'email', lines: [2, 4] },
      { customerIds: ['A', 'C'], via: 'phone', lines: [2, 6] },
    ]);
    expect(new Set(rowsOf(batches).map((row) => row.customerId))).toEqual(new Set(['A', 'B', 'C']));
  });

  it('streams every reject to onReject, keeps a capped list and counts the rest', async () => {
    const rows = Array.from({ length: 30 }, (_, i) => csvRow({ invoiceId: `I-${i}`, currency: 'XXX' }));
    const seen: RowReject[] = [];
    const { summary } = await parseBytes(
      [HEADER, ...rows].join('\n'),
      {},
      { maxRejectsKept: 10, onReject: (r) => seen.push(r) },
    );
    expect(seen).toHaveLength(30);
    expect(seen.map((reject) => reject.line)).toEqual(Array.from({ length: 30 }, (_, i) => i + 2));
    expect(summary).toMatchObject({ rejected: 30, rejectsOmitted: 20 });
    expect(summary.rejects).toEqual(seen.slice(0, 10));
  });

  it('shortens long values in rejects to 200 characters', async () => {
    const { summary } = await parseBytes([HEADER, csvRow({ customerName: 'x'.repeat(500) })].join('\n'));
    expect(summary.rejects[0]?.value).toBe(`${'x'.repeat(200)}…`);
  });

  it('groups and checks customers beyond the 100,000 it remembers like the others', async () => {
    const lines = [HEADER];
    for (let i = 0; i < 100_000; i++)
      lines.push(csvRow({ customerId: `C-${i}`, invoiceId: `I-${i}`, email: '' }));
    lines.push(
      csvRow({ customerId: 'X-1', invoiceId: 'X-1a', email: 'x1@x.example' }),
      csvRow({ customerId: 'X-2', invoiceId: 'X-2a', email: 'x1@x.example' }),
      csvRow({ customerId: 'X-1', invoiceId: 'X-1b', email: 'x1-new@x.example' }),
      csvRow({ customerId: 'X-1', invoiceId: 'X-1c', email: 'broken' }),
      csvRow({ customerId: 'X-1', invoiceId: 'X-1d', email: 'x1-new@x.example' }),
      csvRow({ customerId: 'C-7', invoiceId: 'I-7' }),
    );
    const { batches, summary } = await parseBytes(lines.join('\n'), {}, { batchRows: 100_001 });
    expect(summary).toMatchObject({ valid: 100_004, rejected: 2 });
    expect(summary.rejects.map((reject) => [reject.line, reject.field])).toEqual([
      [100_005, 'email'],
      [100_007, 'invoiceId'],
    ]);
    expect(summary.duplicateDebtors).toEqual([
      { customerIds: ['X-1', 'X-2'], via: 'email', lines: [100_002, 100_003] },
    ]);
    expect(batches).toHaveLength(2);
    expect(batches[0]!.accounts.at(-1)).toMatchObject({ customerId: 'X-1', rows: [{ invoiceId: 'X-1a' }] });
    expect(
      batches[1]!.accounts.map((account) => [
        account.customerId,
        account.contact.email,
        account.rows.map((row) => row.invoiceId),
      ]),
    ).toEqual([
      ['X-2', 'x1@x.example', ['X-2a']],
      ['X-1', 'x1-new@x.example', ['X-1b', 'X-1d']],
    ]);
  });

  it('lets a consumer stop early without hanging', async () => {
    const text = [HEADER, ...Array.from({ length: 50 }, (_, i) => csvRow({ invoiceId: `I-${i}` }))].join(
      '\n',
    );
    let batches = 0;
    for await (const event of parseInvoiceFile(
      { body: Readable.from([Buffer.from(text)]), fileName: 'x.csv', format: {} },
      { batchRows: 10 },
    )) {
      if (event.kind === 'batch') batches++;
      if (batches === 2) break;
    }
    expect(batches).toBe(2);
  });
});
