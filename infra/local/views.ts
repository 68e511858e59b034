import { decisionFor } from '../../functions/ladder-evaluate/ladder-evaluate';
import type { Account, Invoice } from '../../shared/domain/account';
import { verifyChain } from '../../shared/domain/audit';
import { displayAmount } from '../../shared/domain/money';
import { dateIn, daysBetween } from '../../shared/domain/time/calendar';
import type { LocalRuntime } from './runtime';

/** One account as `arrears accounts --json` prints it (documented in the README). */
export interface AccountView {
  accountId: string;
  name: string;
  email: string | null;
  /** Open amount per currency, integer minor units. */
  balances: Record<string, number>;
  balancesDisplay: string;
  oldestDueDate: string | null;
  daysPastDue: number | null;
  cycle: {
    cycleId: string;
    status: string;
    rung: number;
    rungId: string | null;
    lastNoticeAt: string | null;
  } | null;
  flags: { disputed: boolean; ceaseContact: boolean; emailOptOut: boolean };
  openInvoices: {
    invoiceId: string;
    kind: string;
    currency: string;
    amount: number;
    openAmount: number;
    issueDate: string;
    dueDate: string;
    reference: string | null;
  }[];
}

const display = (balances: Record<string, number>): string =>
  Object.entries(balances)
    .map(([currency, amount]) => displayAmount(amount, currency))
    .join(', ');

export const accountView = (
  runtime: LocalRuntime,
  account: Account,
  invoices: readonly Invoice[],
): AccountView => {
  const tenant = runtime.deps.tenants.get(account.tenantId);
  const today = dateIn(runtime.clock.now(), tenant.timeZone);
  const rungId =
    account.cycle && account.cycle.rung >= 0 ? (tenant.ladder.rungs[account.cycle.rung]?.id ?? null) : null;
  return {
    accountId: account.accountId,
    name: account.contact.name,
    email: account.contact.email ?? null,
    balances: account.balances,
    balancesDisplay: display(account.balances),
    oldestDueDate: account.oldestDueDate ?? null,
    daysPastDue: account.oldestDueDate ? Math.max(0, daysBetween(account.oldestDueDate, today)) : null,
    cycle: account.cycle
      ? {
          cycleId: account.cycle.cycleId,
          status: account.cycle.status,
          rung: account.cycle.rung,
          rungId,
          lastNoticeAt: account.cycle.lastNoticeAt ?? null,
        }
      : null,
    flags: account.flags,
    openInvoices: invoices
      .filter((invoice) => invoice.status === 'open' && invoice.openAmount > 0)
      .sort((a, b) => (a.dueDate < b.dueDate ? -1 : a.dueDate > b.dueDate ? 1 : 0))
      .map((invoice) => ({
        invoiceId: invoice.invoiceId,
        kind: invoice.kind,
        currency: invoice.currency,
        amount: invoice.amount,
        openAmount: invoice.openAmount,
        issueDate: invoice.issueDate,
        dueDate: invoice.dueDate,
        reference: invoice.reference ?? null,
      })),
  };
};

/**
 * Everything needed to explain an account's treatment: its state, the audit trail (and whether
 * its hash chain holds), the notices, the ladder execution's path, and what the ladder would do
 * next and why, under the policy version in force.
 */
export const explainAccount = async (runtime: LocalRuntime, tenantId: string, accountId: string) => {
  const tenant = runtime.deps.tenants.get(tenantId);
  const { store } = runtime.deps;
  const account = await store.getAccount(tenantId, accountId);
  if (!account) return undefined;
  const [invoices, notices, trail] = await Promise.all([
    store.getInvoices(tenantId, accountId),
    store.listNotices(tenantId, accountId),
    store.auditTrail(tenantId, accountId),
  ]);
  const chain = verifyChain(trail);
  const now = runtime.clock.now();
  const next = account.cycle ? decisionFor(tenant, account, account.cycle.cycleId, now) : null;
  const execution = account.cycle ? runtime.runner.describe(account.cycle.executionName) : undefined;
  const json = {
    asOf: now.toISOString(),
    policy: { policyId: tenant.ladder.policyId, version: tenant.ladder.version },
    account: accountView(runtime, account, invoices),
    invoices: invoices.map(({ tenantId: _t, accountId: _a, ...invoice }) => invoice),
    notices: notices.map(({ tenantId: _t, accountId: _a, ...notice }) => notice),
    nextStep: next,
    execution: execution
      ? {
          name: execution.name,
          status: execution.status,
          path: execution.path.map((step) => step.state),
          wakeAt: execution.parked?.wakeAt ?? null,
        }
      : null,
    audit: {
      chain: chain.ok
        ? { intact: true, length: chain.length }
        : { intact: false, brokenAtSeq: chain.seq, problem: chain.problem },
      entries: trail.map((entry) => ({
        seq: entry.seq,
        at: entry.at,
        action: entry.action,
        actor: entry.actor.id,
        reason: entry.reason,
      })),
    },
  };
  const view = json.account;
  const text = [
    `${view.accountId}: ${view.name} <${view.email ?? 'no e-mail'}> (tenant ${tenantId}, as of ${json.asOf})`,
    `owes ${view.balancesDisplay || 'nothing'}${view.oldestDueDate ? `, oldest due ${view.oldestDueDate} (${view.daysPastDue} days past due)` : ''}`,
    view.cycle
      ? `cycle ${view.cycle.cycleId}: ${view.cycle.status}, last rung ${view.cycle.rungId ?? 'none yet'}`
      : 'no delinquency cycle',
    next
      ? `next step: ${next.action}${'nextActionAt' in next ? ` at ${next.nextActionAt}` : ''}: ${next.reason}`
      : '',
    execution
      ? `ladder execution ${execution.name}: ${execution.status}, path ${json.execution?.path.join(' → ')}`
      : '',
    `notices: ${notices.length === 0 ? 'none' : ''}`,
    ...notices.map(
      (n) => `  ${n.sentAt ?? n.createdAt} ${n.rungId} to ${n.to}: "${n.subject}" (${n.status})`,
    ),
    `audit trail (${chain.ok ? `hash chain intact, ${chain.length} entries` : `HASH CHAIN BROKEN at entry ${chain.seq}: ${chain.problem}`}):`,
    ...json.audit.entries.map((e) => `  #${e.seq} ${e.at} ${e.action} by ${e.actor}: ${e.reason}`),
  ]
    .filter(Boolean)
    .join('\n');
  return { json, text };
};
