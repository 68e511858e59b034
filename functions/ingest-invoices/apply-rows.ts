import type { Account, Invoice } from '../../shared/domain/account';
import {
  type AccountIngestPlan,
  MAX_ROWS_PER_CHANGE,
  planAccountIngest,
} from '../../shared/domain/invoice-ingest/plan';
import type { AccountRows, RowReject } from '../../shared/ingest';
import type { AccountChange, AccountStore } from '../../shared/ports/account-store';

export interface AppliedBatch {
  applied: number;
  rejects: RowReject[];
  /** Net totals of the rows applied (invoices add, credit notes subtract), minor units. */
  appliedRows: { kind: 'invoice' | 'credit_note'; amount: number; currency: string }[];
  created: number;
  updated: number;
}

/** Attempts per slice before rows are rejected as conflicting (another writer kept winning). */
const CONFLICT_ATTEMPTS = 4;

/**
 * Applies one parsed batch: reads the accounts it touches, plans each account's change (pure),
 * and commits the changes packed into few transactions. An account with more rows than one
 * transaction holds is applied in slices, each planned on the state the previous one left.
 * A version conflict (another writer, e.g. a payment) re-reads that account and plans again.
 */
export const applyBatch = async (
  store: AccountStore,
  input: { tenantId: string; sourceFile: string; now: Date; accounts: readonly AccountRows[] },
): Promise<AppliedBatch> => {
  const result: AppliedBatch = { applied: 0, rejects: [], appliedRows: [], created: 0, updated: 0 };
  const state = await store.getAccountsWithInvoices(
    input.tenantId,
    input.accounts.map((group) => group.customerId),
  );
  const slices = input.accounts.map((group) => ({
    customerId: group.customerId,
    chunks: chunk(group.rows, MAX_ROWS_PER_CHANGE),
  }));
  const rounds = Math.max(0, ...slices.map((slice) => slice.chunks.length));

  for (let round = 0; round < rounds; round += 1) {
    let pending = slices.filter((slice) => slice.chunks[round]).map((slice) => slice.customerId);
    for (let attempt = 1; pending.length > 0; attempt += 1) {
      const plans = new Map<string, AccountIngestPlan>();
      const changes: AccountChange[] = [];
      for (const customerId of pending) {
        const rows = slices.find((slice) => slice.customerId === customerId)?.chunks[round] ?? [];
        const existing = state.get(customerId);
        const plan = planAccountIngest({
          tenantId: input.tenantId,
          accountId: customerId,
          existing,
          rows,
          sourceFile: input.sourceFile,
          now: input.now,
        });
        plans.set(customerId, plan);
        if (plan.change) changes.push({ ...plan.change, before: existing?.account ?? null });
      }
      const { committed, conflicts } =
        changes.length > 0 ? await store.commitMany(changes) : { committed: [] as Account[], conflicts: [] };
      const conflicted = new Set(conflicts.map((change) => change.after.accountId));
      for (const account of committed) {
        const change = changes.find((c) => c.after.accountId === account.accountId);
        state.set(account.accountId, {
          account,
          invoices: merge(state.get(account.accountId)?.invoices, change?.invoices),
        });
      }
      for (const [customerId, plan] of plans) {
        if (conflicted.has(customerId)) continue;
        const rows = slices.find((slice) => slice.customerId === customerId)?.chunks[round] ?? [];
        for (const outcome of plan.outcomes) {
          if (outcome.outcome === 'rejected') {
            const row = rows.find((r) => r.line === outcome.line);
            result.rejects.push({
              line: outcome.line,
              field: outcome.field,
              value: row?.currency ?? '',
              reason: outcome.reason,
            });
            continue;
          }
          result.applied += 1;
          if (outcome.outcome === 'created') result.created += 1;
          if (outcome.outcome === 'updated' || outcome.outcome === 'cancelled') result.updated += 1;
          const row = rows.find((r) => r.line === outcome.line);
          if (row) result.appliedRows.push({ kind: row.kind, amount: row.amount, currency: row.currency });
        }
      }
      pending = [...conflicted];
      if (pending.length === 0) break;
      if (attempt >= CONFLICT_ATTEMPTS) {
        for (const customerId of pending) {
          for (const row of slices.find((slice) => slice.customerId === customerId)?.chunks[round] ?? []) {
            result.rejects.push({
              line: row.line,
              field: 'row',
              value: row.invoiceId,
              reason: `account ${customerId} kept changing while this file was applied; upload the file again`,
            });
          }
        }
        break;
      }
      const fresh = await store.getAccountsWithInvoices(input.tenantId, pending);
      for (const customerId of pending) {
        const entry = fresh.get(customerId);
        if (entry) state.set(customerId, entry);
        else state.delete(customerId);
      }
    }
  }
  return result;
};

const chunk = <T>(items: readonly T[], size: number): T[][] => {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
};

const merge = (
  existing: readonly Invoice[] | undefined,
  changed: readonly Invoice[] | undefined,
): Invoice[] => {
  const byId = new Map((existing ?? []).map((invoice) => [invoice.invoiceId, invoice]));
  for (const invoice of changed ?? []) byId.set(invoice.invoiceId, invoice);
  return [...byId.values()];
};
