import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CustomerTable } from '../../../shared/ingest/customer-table';
import { hashKey, hashRange } from '../../../shared/ingest/string-table';

type Values = (string | undefined)[];

/** A record as a tokenizer hands it over: the values as ranges of one text, among other text. */
const asRanges = (values: Values) => {
  let text = 'before;';
  const starts = new Int32Array(values.length);
  const ends = new Int32Array(values.length);
  const columns: number[] = [];
  values.forEach((value, k) => {
    if (value === undefined) {
      columns.push(-1);
      return;
    }
    starts[k] = text.length;
    text += value;
    ends[k] = text.length;
    text += ';';
    columns.push(k);
  });
  return { text: `${text}after`, starts, ends, columns };
};

const value = fc.oneof(
  fc.constant(undefined),
  fc.string({ unit: fc.constantFrom('a', 'B', ' ', 'é', 'Ł', '\uffff', '0'), maxLength: 6 }),
);
const operation = fc.record({
  id: fc.constantFrom('C-1', 'C-2', 'C-3', 'C-10', 'c-1', 'Łódź', ''),
  values: fc.array(value, { minLength: 5, maxLength: 5 }),
  group: fc.integer({ min: -1, max: 50 }),
  check: fc.boolean(),
});

describe('CustomerTable', () => {
  it('finds each customer by its exact id and compares contacts exactly, whatever the hashes', () => {
    fc.assert(
      fc.property(
        // The real hash, or one that makes ids collide: lookups must still tell them apart.
        fc.constantFrom<(id: string) => number>(
          hashKey,
          () => 7,
          (id) => id.length & 1,
        ),
        fc.integer({ min: 1, max: 8 }),
        fc.array(operation, { maxLength: 60 }),
        (hash, capacity, operations) => {
          const table = new CustomerTable(capacity);
          const model = new Map<
            string,
            { number: number; values: Values; group: number; checked: boolean }
          >();
          for (const { id, values, group, check } of operations) {
            let slot = table.findKey(id, hash(id));
            const known = model.get(id);
            expect(slot >= 0).toBe(known !== undefined);
            if (known === undefined) {
              slot = table.add(id, hash(id), values);
              model.set(id, { number: model.size, values, group: -1, checked: false });
            } else {
              expect(table.customerAt(slot)).toBe(known.number);
              const same = JSON.stringify(known.values) === JSON.stringify(values);
              expect(table.keyMatchesValues(slot, values)).toBe(same);
              const { text, starts, ends, columns } = asRanges(values);
              expect(table.keyMatchesRanges(slot, text, starts, ends, columns)).toBe(same);
              if (!same) {
                table.setKey(slot, values);
                known.values = values;
                known.checked = false;
              }
            }
            const entry = model.get(id)!;
            expect(table.isChecked(slot)).toBe(entry.checked);
            expect(table.groupAt(slot)).toBe(entry.group);
            table.setGroup(slot, group);
            entry.group = group;
            if (check) {
              table.setChecked(slot);
              entry.checked = true;
            }
          }
          expect(table.size).toBe(model.size);
          // Every customer is still found, by its id as a string and as a range of a text.
          for (const [id, entry] of model) {
            const text = `xx${id},`;
            const slot = table.findAt(text, 2, 2 + id.length, hash(id));
            expect(table.customerAt(slot)).toBe(entry.number);
            expect(table.keyMatchesValues(slot, entry.values)).toBe(true);
            expect(table.groupAt(slot)).toBe(entry.group);
          }
          expect(table.findKey('absent', hash('absent'))).toBe(-1);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps a key that grows again and again in its record without losing its id', () => {
    const table = new CustomerTable(1);
    let slot = table.add('C-1', hashKey('C-1'), ['a', undefined, undefined, undefined, undefined]);
    table.add('C-2', hashKey('C-2'), ['b', undefined, undefined, undefined, undefined]);
    for (let n = 1; n <= 200; n++) {
      const values = ['x'.repeat(n), `${n}@example.com`, undefined, 'DE', undefined];
      slot = table.findKey('C-1', hashKey('C-1'));
      expect(table.keyMatchesValues(slot, values)).toBe(false);
      table.setKey(slot, values);
      expect(table.keyMatchesValues(slot, values)).toBe(true);
      expect(table.customerAt(table.findKey('C-1', hashKey('C-1')))).toBe(0);
    }
    const other = table.findKey('C-2', hashKey('C-2'));
    expect(table.keyMatchesValues(other, ['b', undefined, undefined, undefined, undefined])).toBe(true);
  });

  it('moves a record only while its key outgrows it: a contact that alternates costs no more pool', () => {
    const table = new CustomerTable();
    const short = ['a@b.example', undefined, undefined, undefined, undefined];
    const long = ['accounts.payable@example.com', '+4930123456', undefined, 'DE', undefined];
    table.add('C-1', hashKey('C-1'), short);
    const slot = () => table.findKey('C-1', hashKey('C-1'));
    table.setKey(slot(), long);
    table.setKey(slot(), short);
    const used = table.poolUsed;
    for (let n = 0; n < 1000; n++) {
      table.setKey(slot(), n % 2 === 0 ? long : short);
      expect(table.keyMatchesValues(slot(), n % 2 === 0 ? long : short)).toBe(true);
    }
    expect(table.poolUsed).toBe(used);
    expect(table.customerAt(slot())).toBe(0);
  });

  it('tells an absent value from an empty one and from U+FFFF', () => {
    const table = new CustomerTable();
    const slot = table.add('C-1', hashKey('C-1'), [undefined, '', 'a', undefined, undefined]);
    expect(table.keyMatchesValues(slot, [undefined, '', 'a', undefined, undefined])).toBe(true);
    expect(table.keyMatchesValues(slot, ['', '', 'a', undefined, undefined])).toBe(false);
    expect(table.keyMatchesValues(slot, ['\uffff', '', 'a', undefined, undefined])).toBe(false);
    expect(table.keyMatchesValues(slot, [undefined, undefined, 'a', undefined, undefined])).toBe(false);
  });

  it('hashes a range of a text as it hashes the same string', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), (before, key, after) => {
        const text = before + key + after;
        expect(hashRange(text, before.length, before.length + key.length)).toBe(hashKey(key));
      }),
    );
  });
});
