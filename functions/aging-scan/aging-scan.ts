import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { updateAccount } from '../../shared/app/update-account';
import { needsLadder, openCycle } from '../../shared/domain/ladder';
import type { TenantConfig } from '../../shared/domain/tenant/tenant';
import { addDays, dateIn } from '../../shared/domain/time/calendar';
import type { Deps } from '../../shared/runtime/deps';
import { AgingScanEvent, type AgingScanResult, type TenantScanResult } from './schema';

export type AgingScanDeps = Pick<Deps, 'clock' | 'logger' | 'tenants' | 'store' | 'workflow'>;

const ACTOR = { kind: 'schedule', id: 'aging-scan' } as const;

/**
 * Finds a tenant's newly overdue accounts and starts one escalation ladder per delinquency cycle.
 *
 * 1. "Today" is the creditor's date; an account is overdue once its oldest unpaid due date is
 *    more than the ladder's grace days behind it. The sparse due index lists only accounts that
 *    owe money and have no running ladder, so the scan reads no more than it must.
 * 2. Record the cycle on the account (with its audit entry), then start the ladder under a name
 *    derived from the cycle, then mark the ladder started. A crash between the steps leaves the
 *    account in the due index, and the next scan (or a redelivery) completes the same cycle:
 *    StartExecution under the same name never starts a second ladder.
 */
export const scanTenant = async (deps: AgingScanDeps, tenant: TenantConfig): Promise<TenantScanResult> => {
  const now = deps.clock.now();
  const today = dateIn(now, tenant.timeZone);
  const overdueBefore = addDays(today, -tenant.ladder.graceDays);
  const result: TenantScanResult = {
    tenantId: tenant.tenantId,
    asOf: today,
    overdue: 0,
    laddersStarted: 0,
    alreadyRunning: 0,
  };

  for await (const due of deps.store.listDueAccounts(tenant.tenantId, overdueBefore)) {
    const opened = await updateAccount(deps.store, tenant.tenantId, due.accountId, (account) => {
      const overdue = account.oldestDueDate !== undefined && account.oldestDueDate < overdueBefore;
      if (!overdue || !needsLadder(account)) return { change: null, result: undefined };
      if (account.cycle?.status === 'active') return { change: null, result: account.cycle };
      const cycle = openCycle(account, now);
      return {
        result: cycle,
        change: {
          after: { ...account, cycle, updatedAt: now.toISOString() },
          audit: [
            {
              action: 'cycle.opened',
              actor: ACTOR,
              at: now.toISOString(),
              reason: `oldest unpaid invoice due ${account.oldestDueDate}, more than ${tenant.ladder.graceDays} grace days before ${today}`,
              data: {
                cycleId: cycle.cycleId,
                balances: account.balances,
                policy: tenant.ladder.policyId,
                policyVersion: tenant.ladder.version,
              },
            },
          ],
        },
      };
    });
    const cycle = opened.result;
    if (!cycle) continue;
    result.overdue += 1;
    if (cycle.executionStarted) {
      result.alreadyRunning += 1;
      continue;
    }
    const started = await deps.workflow.startLadder(cycle.executionName, {
      tenantId: tenant.tenantId,
      accountId: due.accountId,
      cycleId: cycle.cycleId,
    });
    await updateAccount(deps.store, tenant.tenantId, due.accountId, (account) =>
      account.cycle?.cycleId !== cycle.cycleId || account.cycle.executionStarted
        ? { change: null, result: undefined }
        : {
            result: undefined,
            change: {
              after: {
                ...account,
                cycle: { ...account.cycle, executionStarted: true },
                updatedAt: now.toISOString(),
              },
              audit: [
                {
                  action: 'ladder.started',
                  actor: ACTOR,
                  at: now.toISOString(),
                  reason: started.alreadyStarted
                    ? 'the ladder of this cycle was already running; recorded it'
                    : 'escalation ladder started for this cycle',
                  data: {
                    cycleId: cycle.cycleId,
                    executionName: cycle.executionName,
                    executionArn: started.executionArn,
                  },
                },
              ],
            },
          },
    );
    if (started.alreadyStarted) result.alreadyRunning += 1;
    else result.laddersStarted += 1;
    deps.logger.info('ladder started', {
      tenantId: tenant.tenantId,
      accountId: due.accountId,
      cycleId: cycle.cycleId,
    });
  }
  return result;
};

export const scanForOverdueAccounts = async (
  deps: AgingScanDeps,
  event: AgingScanEvent,
): Promise<AgingScanResult> => {
  const tenants = event.tenantIds ? event.tenantIds.map((id) => deps.tenants.get(id)) : deps.tenants.all();
  const results: TenantScanResult[] = [];
  for (const tenant of tenants) results.push(await scanTenant(deps, tenant));
  return { tenants: results };
};

export const makeHandler = (deps: AgingScanDeps) =>
  middy<unknown, AgingScanResult>()
    .use(injectLambdaContext(deps.logger))
    .handler(async (event) => scanForOverdueAccounts(deps, AgingScanEvent.parse(event ?? {})));
