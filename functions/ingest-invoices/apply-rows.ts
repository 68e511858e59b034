import type { Account, Invoice } from '../../shared/domain/account';
import {
  type AccountIngestPlan,
  MAX_ROWS_PER_CHANGE,
  planAccountIngest,
} from '../../shared/domain/invoice-ingest/plan';
import { addMinor } from '../../shared/domain/money';
import type { AccountRows, InvoiceRow, RowReject } from '../../shared/ingest';
import type { AccountChange, AccountStore, AccountWithInvoices } from '../../shared/ports/account-store';

export type ApplyStore = Pick<AccountStore, 'getAccounts' | 'getAccountsWithInvoices' | 'commitMany'>;

export interface AppliedBatch {
  applied: number;
  rejects: RowReject[];
  /** Net totals of the rows applied (invoices add, credit notes subtract), minor units. */
  totals: Record<string, number>;
  created: number;
  updated: number;
}

export const emptyOutcome = (): AppliedBatch => ({
  applied: 0,
  rejects: [],
  totals: {},
  created: 0,
  updated: 0,
});

/** Adds `more` into `into` (totals per currency included) and returns `into`. */
export const addOutcome = (into: AppliedBatch, more: AppliedBatch): AppliedBatch => {
  into.applied += more.applied;
  into.created += more.created;
  into.updated += more.updated;
  for (const reject of more.rejects) into.rejects.push(reject);
  for (const [currency, amount] of Object.entries(more.totals)) {
    into.totals[currency] = addMinor(into.totals[currency] ?? 0, amount);
  }
  return into;
};

/** Attempts per slice before rows are rejected as conflicting (another writer kept winning). */
const CONFLICT_ATTEMPTS = 4;

/**
 * Learns, from the accounts of a file applied so far, whether the next accounts are worth reading
 * before they are planned.
 *
 * Reading tells which accounts exist (one BatchGetItem per 100). Not reading plans every account
 * as new; the account's Put is conditioned on the account not existing, so one that does exist
 * fails its transaction as a conflict, and the conflict path reads it and plans again. Nothing
 * can be applied on a wrong assumption; the price of a wrong guess is a cancelled transaction
 * (it and the other accounts packed with it are sent again). A tenant's first file is all new
 * accounts, and there the reads are pure cost (measured on DynamoDB Local, which runs requests
 * one at a time: about a tenth of the ingest's time); a daily file is mostly known accounts,
 * and there reading first is cheaper. So reads are skipped only while almost no account of the
 * recent ones existed (counts decay, so a file whose later part holds known accounts turns
 * reading back on).
 */
export class AccountReadPolicy {
  #seen = 0;
  #found = 0;

  /**
   * @param skipBelow skip reads while at most this share of recent accounts existed (0 never skips)
   * @param warmUp accounts to read before skipping may start
   */
  constructor(
    private readonly skipBelow = 0.01,
    private readonly warmUp = 512,
  ) {}

  /** True when the next unit's accounts may be planned as new without reading them. */
  get skipReads(): boolean {
    return this.skipBelow > 0 && this.#seen >= this.warmUp && this.#found <= this.skipBelow * this.#seen;
  }

  /** `found` of `seen` accounts existed (read, or found by a failed "new account" condition). */
  record(seen: number, found: number): void {
    // Decays by unit: a hundred-odd units back weigh next to nothing.
    this.#seen = this.#seen * 0.9 + seen;
    this.#found = this.#found * 0.9 + found;
  }
}

/**
 * Applies the rows of some accounts: reads the accounts they touch, plans each account's change
 * (pure), and commits the changes packed into few transactions. An account with more rows than
 * one transaction holds is applied in slices, each planned on the state the previous one left.
 * A version conflict (another writer, e.g. a payment) re-reads that account and plans again.
 *
 * Reads: one BatchGetItem per 100 accounts says which exist; only those are read again with
 * their invoices (the plan derives balances from all of them). A new account needs nothing more.
 */
export const applyBatch = async (
  store: ApplyStore,
  input: {
    tenantId: string;
    sourceFile: string;
    now: Date;
    accounts: readonly AccountRows[];
    /** Decides whether the accounts are read first (default: always read). */
    reads?: AccountReadPolicy;
  },
): Promise<AppliedBatch> => {
  const result = emptyOutcome();
  const skipReads = input.reads?.skipReads ?? false;
  const existing = skipReads
    ? new Map<string, Account>()
    : await store.getAccounts(
        input.tenantId,
        input.accounts.map((group) => group.customerId),
      );
  /** Accounts planned as new that turned out to exist. */
  let foundByConflict = 0;
  const state: Map<string, AccountWithInvoices> =
    existing.size > 0 ? await store.getAccountsWithInvoices(input.tenantId, [...existing.keys()]) : new Map();
  const slices = new Map(
    input.accounts.map((group) => [group.customerId, chunk(group.rows, MAX_ROWS_PER_CHANGE)]),
  );
  const rounds = Math.max(0, ...[...slices.values()].map((chunks) => chunks.length));

  for (let round = 0; round < rounds; round += 1) {
    const rowsOf = (customerId: string): readonly InvoiceRow[] => slices.get(customerId)?.[round] ?? [];
    let pending = [...slices].filter(([, chunks]) => chunks[round]).map(([customerId]) => customerId);
    for (let attempt = 1; pending.length > 0; attempt += 1) {
      const plans = new Map<string, AccountIngestPlan>();
      const changes = new Map<string, AccountChange>();
      for (const customerId of pending) {
        const before = state.get(customerId);
        const plan = planAccountIngest({
          tenantId: input.tenantId,
          accountId: customerId,
          existing: before,
          rows: rowsOf(customerId),
          sourceFile: input.sourceFile,
          now: input.now,
        });
        plans.set(customerId, plan);
        if (plan.change) changes.set(customerId, { ...plan.change, before: before?.account ?? null });
      }
      const { committed, conflicts } =
        changes.size > 0
          ? await store.commitMany([...changes.values()])
          : { committed: [] as Account[], conflicts: [] };
      const conflicted = new Set(conflicts.map((change) => change.after.accountId));
      for (const account of committed) {
        state.set(account.accountId, {
          account,
          invoices: merge(state.get(account.accountId)?.invoices, changes.get(account.accountId)?.invoices),
        });
      }
      for (const [customerId, plan] of plans) {
        if (conflicted.has(customerId)) continue;
        const rows = new Map(rowsOf(customerId).map((row) => [row.line, row]));
        for (const outcome of plan.outcomes) {
          const row = rows.get(outcome.line);
          if (outcome.outcome === 'rejected') {
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
          if (row) {
            result.totals[row.currency] = addMinor(
              result.totals[row.currency] ?? 0,
              row.kind === 'credit_note' ? -row.amount : row.amount,
            );
          }
        }
      }
      pending = [...conflicted];
      if (pending.length === 0) break;
      if (attempt >= CONFLICT_ATTEMPTS) {
        for (const customerId of pending) {
          for (const row of rowsOf(customerId)) {
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
        if (skipReads && !state.has(customerId) && entry) foundByConflict += 1;
        if (entry) state.set(customerId, entry);
        else state.delete(customerId);
      }
    }
  }
  input.reads?.record(input.accounts.length, skipReads ? foundByConflict : existing.size);
  return result;
};

/**
 * Applies units of accounts, up to `concurrency` units at once, so one unit's reads overlap
 * another's writes. Units must not share an account (they then never race for one). Units are
 * pulled from `units` only as slots free up, so at most `concurrency` are held besides the one
 * the iterable prepares. After a failure no unit is started; the ones in flight are awaited and
 * the first error is thrown: what was committed stays committed, and a rerun of the file finds
 * those rows unchanged.
 */
export const applyUnits = async (
  store: ApplyStore,
  units: AsyncIterable<readonly AccountRows[]> | Iterable<readonly AccountRows[]>,
  input: {
    tenantId: string;
    sourceFile: string;
    now: () => Date;
    concurrency: number;
    /** Shared by the units (default: a new {@link AccountReadPolicy}). */
    reads?: AccountReadPolicy;
  },
): Promise<AppliedBatch> => {
  const reads = input.reads ?? new AccountReadPolicy();
  const total = emptyOutcome();
  const inFlight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  for await (const accounts of units) {
    while (inFlight.size >= Math.max(1, input.concurrency) && !failure) await Promise.race(inFlight);
    if (failure) break;
    const task: Promise<void> = applyBatch(store, {
      tenantId: input.tenantId,
      sourceFile: input.sourceFile,
      now: input.now(),
      accounts,
      reads,
    })
      .then((outcome) => {
        addOutcome(total, outcome);
      })
      .catch((error: unknown) => {
        failure ??= { error };
      })
      .finally(() => inFlight.delete(task));
    inFlight.add(task);
  }
  await Promise.all(inFlight);
  if (failure) throw failure.error;
  return total;
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
