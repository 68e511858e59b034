import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AuditDraft,
  type AuditEntry,
  canonicalJson,
  chainEntries,
  digestOf,
  GENESIS_HASH,
  verifyChain,
} from '../../../shared/domain/audit';

const head = { tenantId: 'acme', subject: 'C-1', seq: 0, hash: GENESIS_HASH };

const draft = (action: string, data: Record<string, unknown> = {}): AuditDraft => ({
  action,
  actor: { kind: 'system', id: 'test' },
  reason: `because ${action}`,
  at: '2026-03-01T10:00:00Z',
  data,
});

const arbitraryDraft: fc.Arbitrary<AuditDraft> = fc.record({
  action: fc.string({ minLength: 1, maxLength: 12 }),
  actor: fc.record({
    kind: fc.constantFrom('system', 'user', 'webhook', 'schedule'),
    id: fc.string({ maxLength: 12 }),
  }),
  reason: fc.string({ maxLength: 30 }),
  at: fc
    .integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2030, 0, 1) })
    .map((ms) => new Date(ms).toISOString()),
  data: fc.dictionary(
    fc.stringMatching(/^[a-z]{1,6}$/),
    fc.oneof(fc.integer(), fc.string({ maxLength: 10 }), fc.boolean()),
    { maxKeys: 4 },
  ),
});

const chainOf = (drafts: AuditDraft[]): AuditEntry[] => chainEntries(head, drafts);

describe('chainEntries', () => {
  it('numbers entries from the head and links each to the previous hash', () => {
    const entries = chainOf([draft('created'), draft('invoice added'), draft('cycle started')]);
    expect(entries.map((entry) => entry.seq)).toEqual([1, 2, 3]);
    expect(entries[0]?.prevHash).toBe(GENESIS_HASH);
    expect(entries[1]?.prevHash).toBe(entries[0]?.hash);
    expect(entries[2]?.prevHash).toBe(entries[1]?.hash);
    expect(entries.every((entry) => entry.tenantId === 'acme' && entry.subject === 'C-1')).toBe(true);
  });

  it('continues an existing chain from its head, as a later commit does', () => {
    const first = chainOf([draft('created'), draft('invoice added')]);
    const last = first[first.length - 1]!;
    const more = chainEntries({ ...head, seq: last.seq, hash: last.hash }, [draft('notice sent')]);
    expect(more[0]?.seq).toBe(3);
    expect(verifyChain([...first, ...more])).toEqual({ ok: true, length: 3, head: more[0]?.hash });
  });

  it('hashes the same content the same whatever the key order', () => {
    const a = chainOf([draft('x', { amount: 100, currency: 'USD', nested: { b: 1, a: 2 } })]);
    const b = chainOf([draft('x', { nested: { a: 2, b: 1 }, currency: 'USD', amount: 100 })]);
    expect(a[0]?.hash).toBe(b[0]?.hash);
  });
});

describe('canonicalJson and digestOf', () => {
  it('sorts keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: [3, 1], a: { d: 1, c: 2 } })).toBe('{"a":{"c":2,"d":1},"b":[3,1]}');
    expect(digestOf({ a: 1, b: 2 })).toBe(digestOf({ b: 2, a: 1 }));
    expect(digestOf([1, 2])).not.toBe(digestOf([2, 1]));
  });
});

describe('verifyChain', () => {
  it('accepts an untouched chain and reports its head', () => {
    fc.assert(
      fc.property(fc.array(arbitraryDraft, { minLength: 1, maxLength: 8 }), (drafts) => {
        const entries = chainOf(drafts);
        expect(verifyChain(entries)).toEqual({ ok: true, length: drafts.length, head: entries.at(-1)?.hash });
      }),
    );
  });

  it('accepts the empty chain', () => {
    expect(verifyChain([])).toEqual({ ok: true, length: 0, head: GENESIS_HASH });
  });

  it('detects an edited entry at that entry', () => {
    fc.assert(
      fc.property(
        fc.array(arbitraryDraft, { minLength: 1, maxLength: 8 }),
        fc.nat(),
        fc.constantFrom('reason', 'action', 'at', 'data', 'actor'),
        (drafts, pick, field) => {
          const entries = chainOf(drafts);
          const index = pick % entries.length;
          const original = entries[index]!;
          const edits: Record<typeof field, Partial<AuditEntry>> = {
            reason: { reason: `${original.reason} (edited)` },
            action: { action: `${original.action}!` },
            at: { at: '1999-01-01T00:00:00Z' },
            data: { data: { ...original.data, injected: true } },
            actor: { actor: { ...original.actor, id: `${original.actor.id}-someone-else` } },
          };
          const tampered = entries.map((entry, i) => (i === index ? { ...entry, ...edits[field] } : entry));
          expect(verifyChain(tampered)).toMatchObject({ ok: false, seq: index + 1 });
        },
      ),
    );
  });

  it('detects an entry edited and re-hashed, at the entry after it', () => {
    const entries = chainOf([draft('a'), draft('b'), draft('c')]);
    const [forged] = chainEntries({ ...head, seq: 0, hash: GENESIS_HASH }, [
      { ...draft('a'), reason: 'forged' },
    ]);
    const tampered = [forged!, ...entries.slice(1)];
    expect(verifyChain(tampered)).toMatchObject({
      ok: false,
      seq: 2,
      problem: 'link to the previous entry broken',
    });
  });

  it('detects a removed entry anywhere but at the end', () => {
    fc.assert(
      fc.property(fc.array(arbitraryDraft, { minLength: 2, maxLength: 8 }), fc.nat(), (drafts, pick) => {
        const entries = chainOf(drafts);
        const index = pick % (entries.length - 1);
        const shortened = entries.filter((_, i) => i !== index);
        expect(verifyChain(shortened).ok).toBe(false);
      }),
    );
  });

  it('shows a removed last entry through a head that no longer matches the recorded one', () => {
    const entries = chainOf([draft('a'), draft('b'), draft('c')]);
    const recordedHead = entries.at(-1)?.hash;
    const verdict = verifyChain(entries.slice(0, -1));
    expect(verdict.ok && verdict.head).not.toBe(recordedHead);
  });

  it('detects two entries swapped', () => {
    fc.assert(
      fc.property(
        fc.array(arbitraryDraft, { minLength: 2, maxLength: 8 }),
        fc.nat(),
        fc.nat(),
        (drafts, a, b) => {
          const entries = chainOf(drafts);
          const i = a % entries.length;
          const j = b % entries.length;
          fc.pre(i !== j);
          const reordered = [...entries];
          [reordered[i], reordered[j]] = [reordered[j]!, reordered[i]!];
          // The first position that changed now holds the later entry, whose seq gives it away.
          expect(verifyChain(reordered)).toMatchObject({ ok: false, seq: Math.max(i, j) + 1 });
        },
      ),
    );
  });

  it('detects entries renumbered to hide a gap', () => {
    const entries = chainOf([draft('a'), draft('b'), draft('c')]);
    const renumbered = [entries[0]!, { ...entries[2]!, seq: 2 }];
    expect(verifyChain(renumbered).ok).toBe(false);
  });
});
