import { describe, expect, it, vi } from 'vitest';
import { Account } from '../../../shared/domain/account';
import { ExternalId, TenantId } from '../../../shared/domain/ids';
import * as z from '../../../shared/zod';

describe('z.onFirstUse', () => {
  it('builds the schema on the first read, and only once', () => {
    const build = vi.fn(() => z.string().check(z.minLength(2)));
    const Code = z.onFirstUse(build);

    expect(build).not.toHaveBeenCalled();
    expect(Code.parse('ab')).toBe('ab');
    expect(Code.safeParse('a').success).toBe(false);
    expect(build).toHaveBeenCalledTimes(1);
  });

  it('parses, fails and words errors exactly like the schema built at once', () => {
    const make = () => z.object({ id: z.string().check(z.minLength(1)), amount: z.number().check(z.int()) });
    const eager = make();
    const deferred = z.onFirstUse(make);

    for (const input of [{ id: 'a', amount: 1 }, { id: '', amount: 1.5 }, { amount: '1' }, null]) {
      expect(deferred.safeParse(input)).toEqual(eager.safeParse(input));
    }
  });

  it('nests in other schemas, wrapped or extended', () => {
    const Id = z.onFirstUse(() => z.string().check(z.minLength(1)));
    const Line = z.onFirstUse(() => z.object({ id: Id, note: z.optional(Id) }));
    const Invoice = z.onFirstUse(() => z.extend(Line, { lines: z.array(Line) }));

    expect(Invoice.parse({ id: 'i1', lines: [{ id: 'l1', note: 'n' }] })).toEqual({
      id: 'i1',
      lines: [{ id: 'l1', note: 'n' }],
    });
    const failed = Invoice.safeParse({ id: 'i1', lines: [{ id: '' }] });
    expect(failed.success).toBe(false);
    expect(failed.error?.issues[0]?.path).toEqual(['lines', 0, 'id']);
    expect(Object.keys(Line.shape)).toEqual(['id', 'note']);
  });

  it('takes further checks like any schema', () => {
    const Amount = z.onFirstUse(() => z.number().check(z.int()));
    const Positive = Amount.check(z.refine((value) => value > 0, 'must be positive'));

    expect(Positive.safeParse(-1).error?.issues[0]?.message).toBe('must be positive');
    expect(Positive.parse(3)).toBe(3);
  });

  it('keeps the domain schemas working as before (ids, accounts)', () => {
    expect(TenantId.safeParse('acme-1').success).toBe(true);
    expect(TenantId.safeParse('Acme').success).toBe(false);
    expect(ExternalId.parse('  C-100 ')).toBe('C-100');
    expect(ExternalId.safeParse('a#b').error?.issues[0]?.message).toBe(
      'must not contain "#" or control characters',
    );
    expect(ExternalId.safeParse('a\u0085b').success).toBe(false);
    expect(ExternalId.safeParse('a\u00a0b').success).toBe(true);
    expect(Object.keys(Account.shape)).toContain('balances');
  });
});
