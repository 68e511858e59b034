import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DECISION_WINDOW,
  decideEncoding,
  type EncodingSetting,
  InvoiceTextDecoder,
  sniffFile,
  utf8Census,
} from '../../../shared/ingest/text-decoding';

const decode = (bytes: Buffer, setting: EncodingSetting, cuts: number[] = []) => {
  const decoder = new InvoiceTextDecoder(setting);
  let text = '';
  let position = 0;
  for (const cut of [...cuts, bytes.length]) {
    text += decoder.write(bytes.subarray(position, cut));
    position = cut;
  }
  text += decoder.end();
  return { text, decoder };
};

const win1252 = (text: string): Buffer =>
  Buffer.from([...text].map((char) => (char === '€' ? 0x80 : char.charCodeAt(0))));

describe('InvoiceTextDecoder', () => {
  it('strips a UTF-8 BOM, even when it arrives one byte at a time', () => {
    const bytes = Buffer.from('\uFEFFcustomerId,Zoë\n', 'utf8');
    const { text, decoder } = decode(bytes, 'auto', [1, 2, 3, 4]);
    expect(text).toBe('customerId,Zoë\n');
    expect(decoder.bomSeen).toBe(true);
    expect(decoder.encoding).toBe('utf-8');
  });

  it('decodes a configured Windows-1252 file: é, ü, ß and the euro sign (0x80)', () => {
    const { text, decoder } = decode(win1252('Société;Müller;Straße;500 €\n'), 'windows-1252');
    expect(text).toBe('Société;Müller;Straße;500 €\n');
    expect(decoder.encoding).toBe('windows-1252');
  });

  it('detects Windows-1252 in auto mode from bytes that cannot be UTF-8', () => {
    const bytes = Buffer.concat([Buffer.from('a;b\n'.repeat(1000)), win1252('Crème brûlée;10 €\n')]);
    const { text, decoder } = decode(bytes, 'auto', [100, 4003]);
    expect(decoder.encoding).toBe('windows-1252');
    expect(text.endsWith('Crème brûlée;10 €\n')).toBe(true);
  });

  it('keeps a UTF-8 file UTF-8 when one row holds bytes of another encoding, and says so', () => {
    const bytes = Buffer.concat([Buffer.from('Zoë Ångström\n'), win1252('René\n'), Buffer.from('Łukasz\n')]);
    const { text, decoder } = decode(bytes, 'auto');
    expect(decoder.encoding).toBe('utf-8');
    expect(decoder.invalidUtf8).toBe(true);
    expect(text).toBe('Zoë Ångström\nRen\uFFFD\nŁukasz\n');
  });

  it('keeps UTF-8 when the bad bytes come before any well-formed UTF-8 within the decision window', () => {
    const bytes = Buffer.concat([win1252('René\n'), Buffer.from('x\n'.repeat(100)), Buffer.from('Zoë\n')]);
    expect(decode(bytes, 'auto').decoder.encoding).toBe('utf-8');
  });

  it('calls a file of plain ASCII UTF-8 and passes it through unchanged', () => {
    const { text, decoder } = decode(Buffer.from('a,b\n1,2\n'), 'auto');
    expect(text).toBe('a,b\n1,2\n');
    expect(decoder.encoding).toBe('utf-8');
    expect(decoder.invalidUtf8).toBe(false);
  });

  it('lets a UTF-8 BOM win over a configured Windows-1252, so accents are not garbled', () => {
    const { text, decoder } = decode(Buffer.from('\uFEFFZoë\n'), 'windows-1252');
    expect(decoder.encoding).toBe('utf-8');
    expect(text).toBe('Zoë\n');
  });

  it('decodes UTF-8 split at any byte, in any mode, exactly as a whole', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom('a', ',', '\n', 'é', 'Ł', '€', '😀', '中'), maxLength: 60 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.constantFrom<EncodingSetting>('auto', 'utf-8'),
        (text, cuts, setting) => {
          const bytes = Buffer.from(text, 'utf8');
          const positions = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
          const result = decode(bytes, setting, positions);
          expect(result.text).toBe(text);
          expect(result.decoder.invalidUtf8).toBe(false);
        },
      ),
    );
  });

  it('decides within a bounded window, holding at most that much back', () => {
    const decoder = new InvoiceTextDecoder('auto');
    expect(decoder.write(Buffer.from('abc'))).toBe('abc');
    expect(decoder.write(Buffer.from('é', 'utf8'))).toBe('');
    const text = decoder.write(Buffer.alloc(DECISION_WINDOW, 'x'));
    expect(decoder.encoding).toBe('utf-8');
    expect(text.startsWith('é')).toBe(true);
  });
});

describe('utf8Census and decideEncoding', () => {
  it('counts well-formed sequences, invalid bytes and bytes Windows-1252 leaves undefined', () => {
    expect(utf8Census(Buffer.from('Zoë €', 'utf8'), true)).toEqual({
      multiByte: 2,
      invalid: 0,
      undefinedIn1252: 0,
    });
    expect(utf8Census(Buffer.from([0xe9, 0x20, 0x81]), true)).toEqual({
      multiByte: 0,
      invalid: 2,
      undefinedIn1252: 1,
    });
    // Overlong forms and surrogates are not UTF-8.
    expect(utf8Census(Buffer.from([0xc0, 0xaf, 0xed, 0xa0, 0x80]), true).multiByte).toBe(0);
    // A sequence cut at the end of a chunk is not judged until the end.
    expect(utf8Census(Buffer.from([0x61, 0xe2, 0x82]), false)).toEqual({
      multiByte: 0,
      invalid: 0,
      undefinedIn1252: 0,
    });
    expect(utf8Census(Buffer.from([0x61, 0xe2, 0x82]), true).invalid).toBeGreaterThan(0);
  });

  it('calls a file Windows-1252 only when nothing in it is UTF-8 and all of it is Windows-1252', () => {
    expect(decideEncoding({ multiByte: 0, invalid: 3, undefinedIn1252: 0 })).toBe('windows-1252');
    expect(decideEncoding({ multiByte: 5, invalid: 1, undefinedIn1252: 0 })).toBe('utf-8');
    expect(decideEncoding({ multiByte: 0, invalid: 3, undefinedIn1252: 1 })).toBe('utf-8');
    expect(decideEncoding({ multiByte: 2, invalid: 0, undefinedIn1252: 0 })).toBe('utf-8');
  });
});

describe('sniffFile', () => {
  it('passes ordinary text', () => {
    expect(sniffFile(Buffer.from('customerId,customerName\r\nC-1,"Tab\there"\n'))).toBeUndefined();
  });

  it('refuses NUL bytes, many control bytes, UTF-16 and well-known binary formats with a reason', () => {
    expect(sniffFile(Buffer.from('abc\u0000def'))).toMatchObject({
      code: 'binary',
      reason: expect.stringContaining('NUL'),
    });
    expect(sniffFile(Buffer.from(`${'\u0001\u0002'.repeat(10)}${'a'.repeat(100)}`))).toMatchObject({
      code: 'binary',
      reason: expect.stringContaining('control characters'),
    });
    expect(sniffFile(Buffer.from([0xff, 0xfe, 0x61, 0x00]))?.code).toBe('utf-16');
    expect(sniffFile(Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14]))?.reason).toContain('Excel workbook');
    expect(sniffFile(Buffer.from('%PDF-1.7\n'))?.reason).toContain('PDF');
    expect(sniffFile(Buffer.from([0x1f, 0x8b, 0x08]))?.reason).toContain('gzip');
  });
});
