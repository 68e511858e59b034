import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { updateAccount } from '../../shared/app/update-account';
import type { Account } from '../../shared/domain/account';
import type { AuditDraft } from '../../shared/domain/audit';
import { decideNextStep, type LadderDecision } from '../../shared/domain/ladder';
import type { TenantConfig } from '../../shared/domain/tenant/tenant';
import type { Deps } from '../../shared/runtime/deps';
import { LadderTask } from './schema';

export type EvaluateDeps = Pick<Deps, 'clock' | 'logger' | 'tenants' | 'store'>;

const ACTOR = { kind: 'system', id: 'ladder-evaluate' } as const;

/** Rungs that send nothing are recorded one after another; a ladder has far fewer than this. */
const MAX_RECORDED_RUNGS = 32;

export const decisionFor = (
  tenant: TenantConfig,
  account: Account,
  cycleId: string,
  now: Date,
): LadderDecision =>
  decideNextStep({
    account,
    cycleId,
    policy: tenant.ladder,
    compliance: tenant.compliance,
    creditorTimeZone: tenant.timeZone,
    now,
  });

const auditOf = (decision: LadderDecision, action: string, now: Date, cycleId: string): AuditDraft => ({
  action,
  actor: ACTOR,
  at: now.toISOString(),
  reason: decision.reason,
  data: { cycleId, decision },
});

/**
 * Decides the next step of one account's ladder (the EvaluateAccount state).
 *
 * 1. Decide from the account as stored now, the tenant's ladder policy and compliance profile.
 * 2. A rung that sends nothing (handover, bureau report, write-off, or a notice that must be
 *    skipped) is recorded on the account with its audit entry, and the next step decided again.
 * 3. A cured or stopped cycle is closed on the account with its audit entry.
 * 4. Sending and waiting are returned to the state machine; SendNotice re-checks before it acts.
 * Safe to run again: every write is conditional on what it read, and a repeat finds the work done.
 */
export const evaluateAccount = async (deps: EvaluateDeps, task: LadderTask): Promise<LadderDecision> => {
  const tenant = deps.tenants.get(task.tenantId);
  for (let step = 0; step < MAX_RECORDED_RUNGS; step += 1) {
    const now = deps.clock.now();
    const { result: decision } = await updateAccount(deps.store, task.tenantId, task.accountId, (account) => {
      const decision = decisionFor(tenant, account, task.cycleId, now);
      const cycle = account.cycle;
      if (decision.action === 'record' && cycle) {
        return {
          result: decision,
          change: {
            after: { ...account, cycle: { ...cycle, rung: decision.rung }, updatedAt: now.toISOString() },
            audit: [auditOf(decision, `rung.${decision.outcome}`, now, task.cycleId)],
          },
        };
      }
      if (decision.action === 'stop' && decision.outcome !== 'ended' && cycle) {
        const status = decision.outcome === 'cured' ? 'cured' : 'stopped';
        return {
          result: decision,
          change: {
            after: {
              ...account,
              cycle: { ...cycle, status, endedAt: now.toISOString(), endReason: decision.reason },
              updatedAt: now.toISOString(),
            },
            audit: [auditOf(decision, `cycle.${status}`, now, task.cycleId)],
          },
        };
      }
      return { result: decision, change: null };
    });
    if (decision.action !== 'record') {
      deps.logger.info('ladder decision', {
        tenantId: task.tenantId,
        accountId: task.accountId,
        action: decision.action,
      });
      return decision;
    }
  }
  throw new Error(
    `more than ${MAX_RECORDED_RUNGS} rungs recorded in one evaluation: check the ladder policy`,
  );
};

export const makeHandler = (deps: EvaluateDeps) =>
  middy<unknown, LadderDecision>()
    .use(injectLambdaContext(deps.logger))
    .handler(async (event) => evaluateAccount(deps, LadderTask.parse(event)));
