import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { type AgingRow, agingCsv, agingReportKey, agingRows } from '../../shared/domain/reports';
import type { TenantConfig } from '../../shared/domain/tenant/tenant';
import { dateIn } from '../../shared/domain/time/calendar';
import type { AccountStore } from '../../shared/ports/account-store';
import type { Deps } from '../../shared/runtime/deps';
import { ExportReportsEvent, type ExportReportsResult } from './schema';

export type ExportReportsDeps = Pick<Deps, 'clock' | 'logger' | 'tenants' | 'blobs'> & {
  store: Pick<AccountStore, 'listAccounts' | 'getAccountsWithInvoices'>;
  buckets: Pick<Deps['buckets'], 'reports'>;
};

/** Accounts read together (account and invoices per partition, several partitions at once). */
const READ_BATCH = 50;

const byAccountThenCurrency = (a: AgingRow, b: AgingRow): number =>
  a.accountId < b.accountId
    ? -1
    : a.accountId > b.accountId
      ? 1
      : a.currency < b.currency
        ? -1
        : a.currency > b.currency
          ? 1
          : 0;

/**
 * Writes one tenant's aging report as of the creditor's date: one row per account and currency
 * with anything open. Rows are sorted and the key is per date, so a re-run the same day
 * overwrites the object with the same content.
 */
export const exportTenantAging = async (
  deps: ExportReportsDeps,
  tenant: TenantConfig,
): Promise<{ key: string; rows: number }> => {
  const asOf = dateIn(deps.clock.now(), tenant.timeZone);
  const rungIds = tenant.ladder.rungs.map((rung) => rung.id);
  const rows: AgingRow[] = [];
  let batch: string[] = [];
  const readBatch = async () => {
    const read = await deps.store.getAccountsWithInvoices(tenant.tenantId, batch);
    for (const { account, invoices } of read.values())
      rows.push(...agingRows(account, invoices, asOf, rungIds));
    batch = [];
  };
  for await (const account of deps.store.listAccounts(tenant.tenantId)) {
    // An account with no balance has nothing open: no row, and no need to read its invoices.
    if (Object.keys(account.balances).length === 0) continue;
    batch.push(account.accountId);
    if (batch.length >= READ_BATCH) await readBatch();
  }
  if (batch.length > 0) await readBatch();
  rows.sort(byAccountThenCurrency);

  const key = agingReportKey(asOf, tenant.tenantId);
  await deps.blobs.put(deps.buckets.reports, key, agingCsv(rows), 'text/csv; charset=utf-8');
  deps.logger.info('aging report written', { tenantId: tenant.tenantId, asOf, rows: rows.length, key });
  return { key, rows: rows.length };
};

/**
 * Exports the reports of every tenant (or the ones named): today the aging report as CSV.
 * Each tenant's date is its own creditor's date, so a tenant's `dt=` partition is the day its
 * finance team calls today.
 */
export const exportReports = async (
  deps: ExportReportsDeps,
  event: ExportReportsEvent,
): Promise<ExportReportsResult> => {
  const tenants = event.tenantIds ? event.tenantIds.map((id) => deps.tenants.get(id)) : deps.tenants.all();
  const result: ExportReportsResult = { tenants: 0, rows: 0, keys: [] };
  for (const tenant of tenants) {
    const written = await exportTenantAging(deps, tenant);
    result.tenants += 1;
    result.rows += written.rows;
    result.keys.push(written.key);
  }
  return result;
};

export const makeHandler = (deps: ExportReportsDeps) =>
  middy<unknown, ExportReportsResult>()
    .use(injectLambdaContext(deps.logger))
    .handler(async (event) => exportReports(deps, ExportReportsEvent.parse(event ?? {})));
