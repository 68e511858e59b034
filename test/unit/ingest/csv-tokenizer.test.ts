import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CsvSink, CsvTokenizer, type CsvTokenizerOptions } from '../../../shared/ingest/csv-tokenizer';

type Event = { line: number; fields: string[]; ranged?: true } | { line: number; invalid: string };

/** The events without the mark of how records came. */
const plain = (events: Event[]): Event[] =>
  events.map((event) => ('fields' in event ? { line: event.line, fields: event.fields } : event));

/**
 * Tokenizes `text` cut at `cuts`. With `ranged`, the sink takes records offered as ranges (and
 * cuts them into strings itself), so both ways in must give the same events.
 */
const tokenize = (
  text: string,
  options: Partial<CsvTokenizerOptions> = {},
  cuts: number[] = [],
  ranged = false,
): Event[] => {
  const events: Event[] = [];
  const tokenizer = new CsvTokenizer({ delimiter: ',', ...options });
  const sink: CsvSink = {
    record: (fields, line) => events.push({ line, fields }),
    invalid: (line, reason) => events.push({ line, invalid: reason }),
  };
  if (ranged) {
    sink.fields = (chunk, starts, ends, count, line) => {
      const fields = Array.from({ length: count }, (_, k) => chunk.slice(starts[k], ends[k]));
      events.push({ line, fields, ranged: true });
      return true;
    };
  }
  let position = 0;
  for (const cut of [...cuts, text.length]) {
    tokenizer.write(text.slice(position, cut), sink);
    position = cut;
  }
  tokenizer.end(sink);
  return events;
};

/** The same text cut at every position must give the same records. */
const everyCut = (text: string, options: Partial<CsvTokenizerOptions> = {}) => {
  const whole = tokenize(text, options);
  for (let cut = 1; cut < text.length; cut++) {
    expect(tokenize(text, options, [cut])).toEqual(whole);
    expect(plain(tokenize(text, options, [cut], true))).toEqual(whole);
  }
  expect(
    tokenize(
      text,
      options,
      Array.from({ length: text.length - 1 }, (_, i) => i + 1),
    ),
  ).toEqual(whole);
  return whole;
};

describe('CsvTokenizer', () => {
  it('reads plain records with the line each starts on', () => {
    expect(everyCut('a,b\n1,2\n3,4\n')).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['1', '2'] },
      { line: 3, fields: ['3', '4'] },
    ]);
  });

  it('keeps counting physical lines across blank lines and a missing final line break', () => {
    expect(everyCut('a,b\n\n1,2\r\n\r\n\r\n3,4')).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 3, fields: ['1', '2'] },
      { line: 6, fields: ['3', '4'] },
    ]);
  });

  it('reads quoted fields with delimiters, doubled quotes and line breaks, numbering the line where the row starts', () => {
    expect(everyCut('a,b\r\n"x, y","say ""hi"""\r\n"one\ntwo\r\nthree",2\r\n5,6\r\n')).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['x, y', 'say "hi"'] },
      { line: 3, fields: ['one\ntwo\r\nthree', '2'] },
      { line: 6, fields: ['5', '6'] },
    ]);
  });

  it('treats a quote inside an unquoted field as an ordinary character', () => {
    expect(everyCut('a,b\n5" pipe,x"y\n')).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['5" pipe', 'x"y'] },
    ]);
  });

  it('keeps empty fields, quoted or not, and a trailing delimiter', () => {
    expect(everyCut('a,b,c\n,"",\n')).toEqual([
      { line: 1, fields: ['a', 'b', 'c'] },
      { line: 2, fields: ['', '', ''] },
    ]);
  });

  it('reports text after a closing quote and goes on with the next row', () => {
    const events = everyCut('a,b\n"x"y,2\n5,6\n');
    expect(events[1]).toEqual({
      line: 2,
      invalid: expect.stringContaining('column 1 has text after its closing quote'),
    });
    expect(events[2]).toEqual({ line: 3, fields: ['5', '6'] });
  });

  it('reports a quote that never closes at its line and reads the lines after it', () => {
    expect(everyCut('a,b\n1,2\n"x,3\n5,6\n7,8\n')).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['1', '2'] },
      { line: 3, invalid: 'the quote that opens column 1 is never closed' },
      { line: 4, fields: ['5', '6'] },
      { line: 5, fields: ['7', '8'] },
    ]);
  });

  it('gives up on a quote that swallows more than the record limit, without holding the rest of the file', () => {
    const text = `a,b\n"${'x'.repeat(200)}\n${'5,6\n'.repeat(10)}`;
    const events = tokenize(text, { maxRecordChars: 100 }, [30, 60, 90, 120, 150, 180, 210]);
    expect(events[1]).toEqual({
      line: 2,
      invalid: expect.stringMatching(/not closed within 100|longer than 100/),
    });
    expect(events.slice(2)).toHaveLength(10);
    expect(events[2]).toEqual({ line: 3, fields: ['5', '6'] });
  });

  it('reports an over-long line once and reads on after it', () => {
    const text = `a,b\n${'y'.repeat(500)}\n1,2\n`;
    const events = tokenize(text, { maxRecordChars: 100 }, [50, 150, 250, 350]);
    expect(events).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, invalid: 'the row is longer than 100 characters' },
      { line: 3, fields: ['1', '2'] },
    ]);
  });

  it('reads files whose lines end in CR alone', () => {
    expect(everyCut('a;b\r"x\ry";2\r3;4\r', { delimiter: ';', lineBreak: '\r' })).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['x\ry', '2'] },
      { line: 4, fields: ['3', '4'] },
    ]);
  });

  it('offers records as ranges, quoted or not, and unescaped ones as ranges of their values', () => {
    const text = 'a,b\r\nplain,"x, y"\r\n"one\ntwo",""\r\n"say ""hi""",z\r\n';
    expect(tokenize(text, {}, [], true)).toEqual([
      { line: 1, fields: ['a', 'b'], ranged: true },
      { line: 2, fields: ['plain', 'x, y'], ranged: true },
      { line: 3, fields: ['one\ntwo', ''], ranged: true },
      { line: 5, fields: ['say "hi"', 'z'], ranged: true },
    ]);
  });

  it('takes a record as strings when the sink declines its ranges', () => {
    const events: Event[] = [];
    const tokenizer = new CsvTokenizer({ delimiter: ';' });
    const sink: CsvSink = {
      record: (fields, line) => events.push({ line, fields }),
      fields: (_text, _starts, _ends, count) => count === 2,
      invalid: (line, reason) => events.push({ line, invalid: reason }),
    };
    tokenizer.write('1;2\n3;4;5\n"6";"7";"8"\n"""9";"";"x""y"\n', sink);
    tokenizer.end(sink);
    expect(events).toEqual([
      { line: 2, fields: ['3', '4', '5'] },
      { line: 3, fields: ['6', '7', '8'] },
      { line: 4, fields: ['"9', '', 'x"y'] },
    ]);
  });

  it('offers records of any number of fields', () => {
    const fields = Array.from({ length: 300 }, (_, i) => `f${i}`);
    const text = `${fields.join(',')}\n"${fields.join('","')}"\n`;
    expect(tokenize(text, {}, [], true)).toEqual([
      { line: 1, fields, ranged: true },
      { line: 2, fields, ranged: true },
    ]);
  });

  it('refuses a delimiter of more than one character', () => {
    expect(() => new CsvTokenizer({ delimiter: ';;' })).toThrow(RangeError);
  });

  it('agrees with csv-parse on generated files, cut into chunks anywhere', () => {
    const field = fc.string({
      unit: fc.constantFrom('a', 'b', 'Z', '1', ' ', ',', ';', '"', '\n', '\r\n', 'é', 'Ł', '€', '😀'),
      maxLength: 8,
    });
    const file = fc.record({
      delimiter: fc.constantFrom(',', ';'),
      lineEnd: fc.constantFrom('\n', '\r\n'),
      records: fc.array(fc.array(field, { minLength: 2, maxLength: 5 }), { minLength: 1, maxLength: 12 }),
      quoteAll: fc.boolean(),
      finalBreak: fc.boolean(),
      cuts: fc.array(fc.nat(), { maxLength: 6 }),
    });
    fc.assert(
      fc.property(file, ({ delimiter, lineEnd, records, quoteAll, finalBreak, cuts }) => {
        const encode = (value: string) =>
          quoteAll || /[",;\r\n]/.test(value) || value.startsWith(' ')
            ? `"${value.replaceAll('"', '""')}"`
            : value;
        let text = '';
        const lines: number[] = [];
        for (const [index, record] of records.entries()) {
          lines.push(text.split('\n').length);
          text += record.map(encode).join(delimiter);
          if (index < records.length - 1 || finalBreak) text += lineEnd;
        }
        const positions = [...new Set(cuts.map((cut) => cut % (text.length + 1)))].sort((a, b) => a - b);
        const ours = tokenize(text, { delimiter }, positions);
        expect(ours).toEqual(records.map((fields, index) => ({ line: lines[index], fields })));
        expect(plain(tokenize(text, { delimiter }, positions, true))).toEqual(ours);
        const theirs = parse(text, {
          delimiter,
          relax_column_count: true,
          skip_empty_lines: true,
        }) as string[][];
        expect(ours.map((event) => ('fields' in event ? event.fields : []))).toEqual(theirs);
      }),
      { numRuns: 400 },
    );
  });
});
