import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashSequentialKey, hashSequentialRange, StringTable } from '../../../shared/ingest/string-table';

describe('hashSequentialRange / hashSequentialKey', () => {
  it('give one hash for a key, whether it is a whole string or a range of a longer text', () => {
    fc.assert(
      fc.property(fc.string(), fc.string({ maxLength: 20 }), fc.string(), (before, key, after) => {
        const text = before + key + after;
        expect(hashSequentialRange(text, before.length, before.length + key.length)).toBe(
          hashSequentialKey(key),
        );
      }),
    );
  });

  it('put ids that differ only in their last character side by side', () => {
    const base = hashSequentialKey('INV-000120');
    for (let digit = 0; digit < 10; digit++)
      expect(hashSequentialKey(`INV-00012${digit}`)).toBe(base + digit);
    expect(hashSequentialKey('INV-000130')).not.toBe(base + 10);
  });

  it('keep a table of numbered ids exact: every id found, no two taken for one', () => {
    const table = new StringTable(16);
    const ids = Array.from({ length: 5000 }, (_, n) => `INV-${String(n).padStart(6, '0')}`);
    // Keys of other shapes that share hashes with some ids: compared in full, never confused.
    const others = Array.from({ length: 500 }, (_, n) => `X${n}`);
    ids.forEach((id, n) => {
      expect(table.setIfAbsentHashed(id, hashSequentialKey(id), n)).toBe(-1);
    });
    others.forEach((id, n) => {
      const text = `,${id},`;
      expect(
        table.setIfAbsentAt(text, 1, text.length - 1, hashSequentialRange(text, 1, text.length - 1), -n),
      ).toBe(-1);
    });
    ids.forEach((id, n) => {
      expect(table.setIfAbsentHashed(id, hashSequentialKey(id), -1)).toBe(n);
    });
    expect(table.size).toBe(5500);
  });
});
