import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashKey, StringTable } from '../../../shared/ingest/string-table';

describe('StringTable', () => {
  it('keeps the first value of each key and answers like a Map', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.string({ maxLength: 6 }), fc.integer({ min: 0, max: 1_000_000 })), {
          maxLength: 300,
        }),
        (entries) => {
          const table = new StringTable(1);
          const map = new Map<string, number>();
          for (const [key, value] of entries) {
            const previous = table.setIfAbsent(key, value);
            expect(previous).toBe(map.get(key) ?? -1);
            if (!map.has(key)) map.set(key, value);
          }
          expect(table.size).toBe(map.size);
          for (const [key, value] of map) expect(table.get(key)).toBe(value);
          expect(table.get('\u0000absent\u0000')).toBe(-1);
        },
      ),
    );
  });

  it('holds many keys, including long and non-Latin ones, after growing', () => {
    const table = new StringTable(4);
    for (let i = 0; i < 50_000; i++)
      expect(table.setIfAbsent(`INV-${i}-Łódź-${'x'.repeat(i % 40)}`, i)).toBe(-1);
    expect(table.size).toBe(50_000);
    expect(table.get(`INV-49999-Łódź-${'x'.repeat(49999 % 40)}`)).toBe(49999);
    expect(table.setIfAbsent('INV-7-Łódź-xxxxxxx', 0)).toBe(7);
  });
});

describe('StringTable: keys given as ranges of a text, and hashes that collide', () => {
  it('answers the same for a key given as a string or as a range, and never by the hash alone', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<(key: string) => number>(
          hashKey,
          () => 42,
          (key) => key.length,
        ),
        fc.array(fc.tuple(fc.string({ maxLength: 5 }), fc.boolean()), { maxLength: 200 }),
        (hash, keys) => {
          const table = new StringTable(1);
          const map = new Map<string, number>();
          keys.forEach(([key, asRange], value) => {
            const text = `«${key}»`;
            const previous = asRange
              ? table.setIfAbsentAt(text, 1, 1 + key.length, hash(key), value)
              : table.setIfAbsentHashed(key, hash(key), value);
            expect(previous).toBe(map.get(key) ?? -1);
            if (!map.has(key)) map.set(key, value);
          });
          expect(table.size).toBe(map.size);
          if (hash === hashKey) for (const [key, value] of map) expect(table.get(key)).toBe(value);
        },
      ),
      { numRuns: 300 },
    );
  });
});
