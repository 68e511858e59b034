import { createHash } from 'node:crypto';
import type { Account, Cycle } from '../account/account';
import { owesMoney } from '../account/balances';

/**
 * Step Functions execution names: 1-80 characters, none of whitespace, `<>{}[]?*"#%\^|~\`$&,;:/`
 * or control characters, and reserved for 90 days. The name is derived from the cycle, so
 * starting the same cycle twice is recognised instead of starting a second ladder.
 */
export const ladderExecutionName = (tenantId: string, accountId: string, cycleId: string): string => {
  const raw = `${tenantId}--${accountId}--${cycleId}`;
  const safe = raw.replace(/[^A-Za-z0-9._-]/g, '_');
  if (safe === raw && safe.length <= 80) return safe;
  // Sanitising can map two account ids onto one name: a digest of the raw name keeps them apart.
  const digest = createHash('sha256').update(raw).digest('hex').slice(0, 16);
  return `${safe.slice(0, 80 - digest.length - 1)}-${digest}`;
};

/**
 * True when the account needs a ladder started: it owes money past a due date, and it is in no
 * open cycle (none yet, or the last one was cured), or its cycle is recorded but its ladder has
 * not been started yet (a scan that crashed between the two steps). A stopped cycle stays open
 * until the account is current: the same debt never restarts the ladder from its first rung.
 */
export const needsLadder = (account: Account): boolean =>
  owesMoney(account) &&
  account.oldestDueDate !== undefined &&
  (!account.cycle ||
    account.cycle.status === 'cured' ||
    (account.cycle.status === 'active' && !account.cycle.executionStarted));

/** The cycle an overdue account enters now. Its id is unique per account and deterministic. */
export const openCycle = (account: Account, startedAt: Date): Cycle => {
  const cycleNumber = (account.cycle?.cycleNumber ?? 0) + 1;
  const overdueSince = account.oldestDueDate ?? startedAt.toISOString().slice(0, 10);
  const cycleId = `c${cycleNumber}-${overdueSince}`;
  return {
    cycleId,
    cycleNumber,
    startedAt: startedAt.toISOString(),
    overdueSince,
    executionName: ladderExecutionName(account.tenantId, account.accountId, cycleId),
    executionStarted: false,
    rung: -1,
    contacts: [],
    status: 'active',
  };
};
