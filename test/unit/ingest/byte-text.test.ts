import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BYTE_TEXT_REPLACEMENT,
  byteTextLength,
  decodeByteText,
  isAsciiAt,
  toByteText,
} from '../../../shared/ingest/byte-text';
import { type CsvSink, CsvTokenizer } from '../../../shared/ingest/csv-tokenizer';
import { CustomerTable } from '../../../shared/ingest/customer-table';
import { hashKey } from '../../../shared/ingest/string-table';
import { InvoiceTextDecoder } from '../../../shared/ingest/text-decoding';
import { parseBytes } from './support';

const byteTextOf = (text: string): string => toByteText(Buffer.from(text, 'utf8'));

/** Text with the characters that make byte text differ from decoded text. */
const mixedText = fc.string({
  unit: fc.constantFrom('a', 'Z', ',', '"', '\n', ' ', 'é', 'ü', 'ß', '€', '株', '🙂', '\u00a0', '\uFFFD'),
  maxLength: 40,
});

describe('byte text', () => {
  it('is the UTF-8 bytes one character each, and decodes back to the text, whole or by range', () => {
    const view = byteTextOf('Müller GmbH');
    expect(view.length).toBe(12);
    expect(view.charCodeAt(1)).toBe(0xc3);
    expect(decodeByteText(view)).toBe('Müller GmbH');
    expect(decodeByteText(view, 0, 3)).toBe('Mü');
    expect(decodeByteText(view, 8, 12)).toBe('GmbH');
    expect(isAsciiAt(view, 7, 12)).toBe(true);
    expect(isAsciiAt(view, 0, 3)).toBe(false);
    expect(decodeByteText(byteTextOf('a🙂b'))).toBe('a🙂b');
    expect(byteTextOf('\uFFFD')).toBe(BYTE_TEXT_REPLACEMENT);
  });

  it('counts the characters (UTF-16 code units) of the text a range stands for', () => {
    fc.assert(
      fc.property(mixedText, mixedText, (before, text) => {
        const view = byteTextOf(before + text);
        const start = Buffer.byteLength(before, 'utf8');
        expect(byteTextLength(view, start, view.length)).toBe(text.length);
        expect(decodeByteText(view, start, view.length)).toBe(text);
      }),
    );
  });
});

const decodePieces = (bytes: Buffer, sizes: number[], setting: 'auto' | 'utf-8' = 'auto') => {
  const decoder = new InvoiceTextDecoder(setting, { byteText: true });
  const pieces: { text: string; byteText: boolean }[] = [];
  let at = 0;
  for (let k = 0; at < bytes.length; k++) {
    const size = sizes[k % sizes.length]!;
    pieces.push({ text: decoder.write(bytes.subarray(at, at + size)), byteText: decoder.byteText });
    at += size;
  }
  pieces.push({ text: decoder.end(), byteText: decoder.byteText });
  return { pieces, decoder };
};

const textOf = (pieces: { text: string; byteText: boolean }[]): string =>
  pieces.map((piece) => (piece.byteText ? decodeByteText(piece.text) : piece.text)).join('');

describe('InvoiceTextDecoder with byte text', () => {
  it('gives well-formed UTF-8 as byte text, never cutting a character, whatever the chunk sizes', () => {
    const text = '\uFEFFcustomerId,name\nC1,Müller 🙂\nC2,株式会社\n';
    for (const sizes of [[1], [7], [13], [2, 3], [1000]]) {
      const { pieces, decoder } = decodePieces(Buffer.from(text, 'utf8'), sizes);
      expect(pieces.every((piece) => piece.byteText)).toBe(true);
      // Each piece decodes on its own: no character is split between two.
      for (const piece of pieces) expect(decodeByteText(piece.text)).not.toContain('\uFFFD');
      expect(textOf(pieces)).toBe(text.slice(1));
      expect(decoder.bomSeen).toBe(true);
      expect(decoder.invalidUtf8).toBe(false);
    }
  });

  it('gives decoded text from the first malformed byte on, with U+FFFD where it was', () => {
    const bytes = Buffer.concat([
      Buffer.from('a,Zoë\n', 'utf8'),
      Buffer.from([0x62, 0x2c, 0xe9, 0x0a]), // "b,é\n" in Windows-1252
      Buffer.from('c,Zoë\n', 'utf8'),
    ]);
    const { pieces, decoder } = decodePieces(bytes, [3], 'utf-8');
    expect(pieces[0]!.byteText).toBe(true);
    const first = pieces.findIndex((piece) => !piece.byteText);
    expect(first).toBeGreaterThan(0);
    expect(pieces.slice(first).every((piece) => !piece.byteText)).toBe(true);
    expect(textOf(pieces)).toBe('a,Zoë\nb,\uFFFD\nc,Zoë\n');
    expect(decoder.invalidUtf8).toBe(true);
  });

  it('decodes a character cut off by the end of the file as U+FFFD, and what came before it in the same call', () => {
    const { pieces } = decodePieces(Buffer.from([0x61, 0xc3]), [2], 'utf-8');
    expect(textOf(pieces)).toBe('a\uFFFD');
    expect(pieces.at(-1)!.byteText).toBe(false);
  });

  it('gives no byte text in a Windows-1252 file but its ASCII before the decision (which is both)', () => {
    const { pieces, decoder } = decodePieces(Buffer.from([0x5a, 0x6f, 0xeb, 0x0a]), [1]);
    expect(decoder.encoding).toBe('windows-1252');
    expect(decoder.byteText).toBe(false);
    const byteTexts = pieces.filter((piece) => piece.byteText).map((piece) => piece.text);
    expect(byteTexts.join('')).toBe('Zo');
    expect(textOf(pieces)).toBe('Zoë\n');
  });
});

interface Seen {
  records: { fields: string[]; line: number }[];
  invalid: { line: number; reason: string; excerpt: string }[];
}

const tokenize = (text: string, byteText: boolean, maxRecordChars: number, chunk: number): Seen => {
  const seen: Seen = { records: [], invalid: [] };
  const sink: CsvSink = {
    record: (fields, line) => seen.records.push({ fields, line }),
    fields: (view, starts, ends, count, line, isByteText) => {
      expect(isByteText).toBe(byteText);
      const fields: string[] = [];
      for (let k = 0; k < count; k++)
        fields.push(isByteText ? decodeByteText(view, starts[k]!, ends[k]!) : view.slice(starts[k], ends[k]));
      seen.records.push({ fields, line });
      return true;
    },
    invalid: (line, reason, excerpt) => seen.invalid.push({ line, reason, excerpt }),
  };
  const tokenizer = new CsvTokenizer({ delimiter: ',', maxRecordChars, byteText });
  const source = byteText ? byteTextOf(text) : text;
  // Byte text is cut at character boundaries (the decoder's rule): cut by characters here.
  const characters = [...text];
  for (let at = 0; at < characters.length; at += chunk) {
    const piece = characters.slice(at, at + chunk).join('');
    tokenizer.write(byteText ? byteTextOf(piece) : piece, sink, byteText);
  }
  expect(source.length).toBeGreaterThanOrEqual(text.length);
  tokenizer.end(sink);
  return seen;
};

describe('CsvTokenizer on byte text', () => {
  it('finds the same records, excerpts and too-long rows as on decoded text', () => {
    const cell = fc.oneof(
      mixedText,
      mixedText.map((text) => `"${text.replaceAll('"', '""')}"`),
      fc.constantFrom(
        '"unclosed',
        '"a"b',
        'é'.repeat(30),
        '🙂'.repeat(20),
        `${'€'.repeat(119)}🙂`,
        'é'.repeat(130),
      ),
    );
    const line = fc.array(cell, { minLength: 1, maxLength: 5 }).map((cells) => cells.join(','));
    fc.assert(
      fc.property(
        fc.array(line, { maxLength: 8 }),
        fc.constantFrom(20, 45, 1000),
        fc.integer({ min: 1, max: 30 }),
        (lines, maxRecordChars, chunk) => {
          const text = lines.join('\n');
          expect(tokenize(text, true, maxRecordChars, chunk)).toEqual(
            tokenize(text, false, maxRecordChars, chunk),
          );
        },
      ),
    );
  });

  it('goes on in decoded text once decoded text comes, decoding the record it holds', () => {
    const seen: string[][] = [];
    const sink: CsvSink = {
      record: (fields) => seen.push(fields),
      invalid: () => expect.unreachable(),
    };
    const tokenizer = new CsvTokenizer({ delimiter: ',', byteText: true });
    tokenizer.write(byteTextOf('a,Zoë\nb,Mü'), sink, true);
    tokenizer.write('ller\nc,\uFFFD\n', sink, false);
    tokenizer.write(byteTextOf('d,Zoë\n'), sink, true);
    tokenizer.end(sink);
    expect(seen).toEqual([
      ['a', 'Zoë'],
      ['b', 'Müller'],
      ['c', '\uFFFD'],
      ['d', 'Zoë'],
    ]);
  });
});

describe('CustomerTable.keyMatchesByteRanges', () => {
  it('agrees with keyMatchesValues on the decoded values', () => {
    const value = fc.oneof(
      fc.constant(undefined),
      fc.string({ unit: fc.constantFrom('a', 'é', 'ü', '€', '株', '🙂', '\uFFFD'), maxLength: 5 }),
    );
    const values = fc.array(value, { minLength: 3, maxLength: 3 });
    fc.assert(
      fc.property(values, values, (stored, given) => {
        const table = new CustomerTable(16);
        const slot = table.add('C1', hashKey('C1'), stored);
        let view = 'x,';
        const starts = new Int32Array(3);
        const ends = new Int32Array(3);
        const columns = given.map((entry, k) => {
          if (entry === undefined) return -1;
          starts[k] = view.length;
          view += byteTextOf(entry);
          ends[k] = view.length;
          view += ',';
          return k;
        });
        expect(table.keyMatchesByteRanges(slot, view, starts, ends, columns)).toBe(
          table.keyMatchesValues(slot, given),
        );
      }),
    );
  });
});

describe('parseInvoiceFile on UTF-8 read as byte text', () => {
  const header = 'customerId,customerName,email,invoiceId,currency,amount,issueDate,dueDate,reference\n';
  const file = `${header}${[
    'C1,Müller GmbH,m@example.com,I1,EUR,1.00,2026-01-01,2026-01-02,Réf  1',
    'C1,Müller GmbH,m@example.com,I2,EUR,2.00,2026-01-01,2026-01-02,',
    'C2,🙂 Emoji Co,a@example.com,I3,EUR,3.00,2026-01-01,2026-01-02,Order 3',
    'Cé1,株式会社,b@example.com,Ié4,EUR,4.00,2026-01-01,2026-01-02,',
    'C3,Zoë,c@example.com,I5,EÜR,5.00,2026-01-01,2026-01-02,',
    'C4,"Bad \uFFFD Name",d@example.com,I6,EUR,6.00,2026-01-01,2026-01-02,',
  ].join('\n')}\n`;

  it('keeps names and references as text and rejects with the decoded values, whatever the chunk sizes', async () => {
    const whole = await parseBytes(file);
    const names = whole.batches.flatMap((batch) => batch.accounts.map((account) => account.contact.name));
    expect(names).toEqual(['Müller GmbH', '🙂 Emoji Co', '株式会社']);
    expect(whole.batches[0]!.accounts[0]!.rows[0]!.reference).toBe('Réf 1');
    // Ids with a letter beyond ASCII (which ends in ASCII, so it looks plain).
    expect(whole.batches[0]!.accounts[2]!.customerId).toBe('Cé1');
    expect(whole.batches[0]!.accounts[2]!.rows[0]!.invoiceId).toBe('Ié4');
    expect(whole.summary.rejects.map((reject) => [reject.line, reject.field, reject.value])).toEqual([
      [6, 'currency', 'EÜR'],
      [7, 'customerName', 'Bad \uFFFD Name'],
    ]);
    for (const chunkSize of [1, 7, 13]) {
      const chunked = await parseBytes(file, {}, { chunkSize });
      expect(chunked).toEqual(whole);
    }
  });
});
