import type { Account, Invoice } from '../account';
import { addMinor, formatAmount, subtractMinor } from '../money';
import { daysBetween } from '../time/calendar';
import { csvText, toCsv } from './csv';

export const AGING_BUCKETS = ['current', 'd1_30', 'd31_60', 'd61_90', 'd90_plus'] as const;
export type AgingBucket = (typeof AGING_BUCKETS)[number];

/** The bucket of an invoice that is `daysPastDue` days past its due date (0 or less: not yet due). */
export const agingBucket = (daysPastDue: number): AgingBucket => {
  if (daysPastDue <= 0) return 'current';
  if (daysPastDue <= 30) return 'd1_30';
  if (daysPastDue <= 60) return 'd31_60';
  if (daysPastDue <= 90) return 'd61_90';
  return 'd90_plus';
};

/** One account's open amounts in one currency, by age, as of one date. */
export interface AgingRow {
  tenantId: string;
  accountId: string;
  currency: string;
  /** Minor units per bucket. */
  buckets: Record<AgingBucket, number>;
  /** Sum of the buckets: the account's balance in this currency. */
  total: number;
  /** Oldest due date among the open invoices of this currency. */
  oldestDueDate: string | undefined;
  cycleStatus: string | undefined;
  /** Id of the highest rung acted on in the account's cycle. */
  rung: string | undefined;
}

const emptyBuckets = (): Record<AgingBucket, number> => ({
  current: 0,
  d1_30: 0,
  d31_60: 0,
  d61_90: 0,
  d90_plus: 0,
});

/**
 * Ages one account's open invoices as of `asOf` (the creditor's date), one row per currency.
 * Open credit notes are not past due: they reduce the current bucket, so each row's total equals
 * the account's balance in that currency. Currencies with nothing open make no row.
 */
export const agingRows = (
  account: Account,
  invoices: readonly Invoice[],
  asOf: string,
  rungIds: readonly string[] = [],
): AgingRow[] => {
  const byCurrency = new Map<string, AgingRow>();
  const cycle = account.cycle;
  for (const invoice of invoices) {
    if (invoice.status !== 'open' || invoice.openAmount === 0) continue;
    let row = byCurrency.get(invoice.currency);
    if (!row) {
      row = {
        tenantId: account.tenantId,
        accountId: account.accountId,
        currency: invoice.currency,
        buckets: emptyBuckets(),
        total: 0,
        oldestDueDate: undefined,
        cycleStatus: cycle?.status,
        rung: cycle && cycle.rung >= 0 ? (rungIds[cycle.rung] ?? String(cycle.rung)) : undefined,
      };
      byCurrency.set(invoice.currency, row);
    }
    if (invoice.kind === 'credit_note') {
      row.buckets.current = subtractMinor(row.buckets.current, invoice.openAmount);
      row.total = subtractMinor(row.total, invoice.openAmount);
      continue;
    }
    const bucket = agingBucket(daysBetween(invoice.dueDate, asOf));
    row.buckets[bucket] = addMinor(row.buckets[bucket], invoice.openAmount);
    row.total = addMinor(row.total, invoice.openAmount);
    if (row.oldestDueDate === undefined || invoice.dueDate < row.oldestDueDate)
      row.oldestDueDate = invoice.dueDate;
  }
  return [...byCurrency.values()].sort((a, b) =>
    a.currency < b.currency ? -1 : a.currency > b.currency ? 1 : 0,
  );
};

export const AGING_CSV_COLUMNS = [
  'tenant_id',
  'account_id',
  'currency',
  'current',
  'd1_30',
  'd31_60',
  'd61_90',
  'd90_plus',
  'total',
  'oldest_due_date',
  'cycle_status',
  'rung',
] as const;

/** Rows as CSV: amounts as plain decimals of their currency, text neutralised for spreadsheets. */
export const agingCsv = (rows: readonly AgingRow[]): string =>
  toCsv(
    AGING_CSV_COLUMNS,
    rows.map((row) => [
      csvText(row.tenantId),
      csvText(row.accountId),
      csvText(row.currency),
      ...AGING_BUCKETS.map((bucket) => formatAmount(row.buckets[bucket], row.currency)),
      formatAmount(row.total, row.currency),
      csvText(row.oldestDueDate),
      csvText(row.cycleStatus),
      csvText(row.rung),
    ]),
  );

/** Where one tenant's aging report of one date goes: one object per date, so a re-run overwrites it. */
export const agingReportKey = (asOf: string, tenantId: string): string =>
  `reports/aging/dt=${asOf}/tenant=${tenantId}/aging.csv`;
