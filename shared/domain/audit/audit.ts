import { createHash } from 'node:crypto';
import * as z from '../../zod';
import { IsoTimestamp, TenantId } from '../ids';

/** Hash of the (empty) chain before an account's first entry. */
export const GENESIS_HASH = '0'.repeat(64);

export const AuditActor = z.onFirstUse(() =>
  z.object({
    kind: z.enum(['system', 'user', 'webhook', 'schedule']),
    /** The function, person or integration that acted. */
    id: z.string(),
  }),
);
export type AuditActor = z.infer<typeof AuditActor>;

/** What a use case says about an action; the store adds the chain fields when it commits. */
export const AuditDraft = z.onFirstUse(() =>
  z.object({
    action: z.string(),
    actor: AuditActor,
    /** Why, in words a collections officer understands. */
    reason: z.string(),
    at: IsoTimestamp,
    /** Digests of the subject before and after, so a change can be proved without copying personal data. */
    before: z.optional(z.string()),
    after: z.optional(z.string()),
    /** Facts needed to explain the decision later (rung, policy version, amounts...); no secrets. */
    data: z._default(z.record(z.string(), z.unknown()), {}),
  }),
);
export type AuditDraft = z.infer<typeof AuditDraft>;

export const AuditEntry = z.onFirstUse(() =>
  z.extend(AuditDraft, {
    tenantId: TenantId,
    /** The account (or other subject) whose chain this entry extends. */
    subject: z.string(),
    seq: z.number().check(z.int(), z.minimum(1)),
    prevHash: z.string().check(z.length(64)),
    hash: z.string().check(z.length(64)),
  }),
);
export type AuditEntry = z.infer<typeof AuditEntry>;

/** JSON with keys sorted at every depth, so the same entry always hashes the same. */
export const canonicalJson = (value: unknown): string =>
  JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  );

export const sha256 = (text: string | Uint8Array): string => createHash('sha256').update(text).digest('hex');

/** Digest of any value, for the before/after fields of an entry. */
export const digestOf = (value: unknown): string => sha256(canonicalJson(value));

const entryHash = (entry: Omit<AuditEntry, 'hash'>): string => sha256(canonicalJson(entry));

/** Extends a chain whose head is (seq, hash) by the given drafts, in order. */
export const chainEntries = (
  head: { tenantId: string; subject: string; seq: number; hash: string },
  drafts: readonly AuditDraft[],
): AuditEntry[] => {
  const entries: AuditEntry[] = [];
  let seq = head.seq;
  let prevHash = head.hash;
  for (const draft of drafts) {
    seq += 1;
    const body = { ...draft, tenantId: head.tenantId, subject: head.subject, seq, prevHash };
    const hash = entryHash(body);
    entries.push({ ...body, hash });
    prevHash = hash;
  }
  return entries;
};

export type ChainVerdict =
  | { ok: true; length: number; head: string }
  | { ok: false; seq: number; problem: string };

/**
 * Walks a subject's entries in sequence order and checks each hash and link. Any edit, removal
 * or reordering of an entry breaks the chain at that entry.
 */
export const verifyChain = (entries: readonly AuditEntry[]): ChainVerdict => {
  let prevHash = GENESIS_HASH;
  let expectedSeq = 1;
  for (const entry of entries) {
    if (entry.seq !== expectedSeq)
      return { ok: false, seq: entry.seq, problem: `expected seq ${expectedSeq}` };
    if (entry.prevHash !== prevHash)
      return { ok: false, seq: entry.seq, problem: 'link to the previous entry broken' };
    const { hash, ...body } = entry;
    if (entryHash(body) !== hash)
      return { ok: false, seq: entry.seq, problem: 'content does not match its hash' };
    prevHash = hash;
    expectedSeq += 1;
  }
  return { ok: true, length: entries.length, head: prevHash };
};
