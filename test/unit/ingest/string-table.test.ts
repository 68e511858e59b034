import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StringTable } from '../../../shared/ingest/string-table';

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
