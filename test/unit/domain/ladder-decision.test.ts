import { describe, expect, it } from 'vitest';
import type { Account } from '../../../shared/domain/account';
import { decideNextStep, type LadderDecision } from '../../../shared/domain/ladder';
import { acme, anAccountInCycle } from '../../support/builders';

const decide = (account: Account, now: string, cycleId = account.cycle?.cycleId ?? 'none'): LadderDecision =>
  decideNextStep({
    account,
    cycleId,
    policy: acme.ladder,
    compliance: acme.compliance,
    creditorTimeZone: acme.timeZone,
    now: new Date(now),
  });

// 2026-03-03 15:00 UTC is 10:00 in New York: inside the 08:00-21:00 window.
const MIDMORNING_NY = '2026-03-03T15:00:00Z';

describe('decideNextStep', () => {
  it('sends the first rung once the account is past its days-past-due threshold', () => {
    const account = anAccountInCycle('2026-03-02T11:00:00Z');
    expect(decide(account, MIDMORNING_NY)).toMatchObject({
      action: 'send',
      rung: 0,
      rungId: 'reminder',
      policyVersion: 1,
    });
  });

  it('waits for the contact window in the debtor zone instead of sending at night', () => {
    const account = anAccountInCycle('2026-03-02T11:00:00Z');
    // 03:00 UTC is 22:00 in New York: after 21:00, so wait until 08:00 local (13:00 UTC in EST).
    const decision = decide(account, '2026-03-04T03:00:00Z');
    expect(decision).toMatchObject({ action: 'wait', nextActionAt: '2026-03-04T13:00:00.000Z' });
  });

  it('uses every fallback zone when the debtor zone is unknown', () => {
    const account = anAccountInCycle('2026-03-02T11:00:00Z', {
      contact: { name: 'No Zone', email: 'nz@example.com' },
    });
    // 13:00 UTC is 08:00 in New York but 05:00 in Los Angeles: wait until 08:00 in LA (16:00 UTC).
    const decision = decide(account, '2026-03-04T13:00:00Z');
    expect(decision).toMatchObject({ action: 'wait', nextActionAt: '2026-03-04T16:00:00.000Z' });
  });

  it('waits until the next rung threshold after a notice was sent', () => {
    const base = anAccountInCycle('2026-03-02T11:00:00Z');
    const account: Account = {
      ...base,
      cycle: {
        ...base.cycle!,
        rung: 0,
        lastNoticeAt: '2026-03-03T15:00:00.000Z',
        contacts: ['2026-03-03T15:00:00.000Z'],
      },
    };
    const decision = decide(account, '2026-03-03T16:00:00Z');
    expect(decision.action).toBe('wait');
    // follow-up acts at 10 days past due: 2026-03-11, from midnight in the creditor's zone. New
    // York moved to summer time on 2026-03-08, so that midnight is 04:00 UTC, not 05:00.
    expect(decision).toMatchObject({ nextActionAt: '2026-03-11T04:00:00.000Z' });
  });

  it('keeps notices apart by the minimum spacing even when the threshold has passed', () => {
    const base = anAccountInCycle('2026-03-02T11:00:00Z', { oldestDueDate: '2026-02-01' });
    const account: Account = {
      ...base,
      cycle: {
        ...base.cycle!,
        rung: 0,
        lastNoticeAt: '2026-03-03T15:00:00.000Z',
        contacts: ['2026-03-03T15:00:00.000Z'],
      },
    };
    const decision = decide(account, '2026-03-04T15:00:00Z');
    expect(decision).toMatchObject({ action: 'wait', nextActionAt: '2026-03-08T15:00:00.000Z' });
  });

  it('stops as cured when nothing is owed', () => {
    const account = anAccountInCycle('2026-03-02T11:00:00Z', {
      balances: {},
      oldestDueDate: undefined,
      openInvoiceCount: 0,
    });
    expect(decide(account, MIDMORNING_NY)).toMatchObject({ action: 'stop', outcome: 'cured' });
  });

  it('pauses a disputed account without ending the cycle', () => {
    const account = anAccountInCycle('2026-03-02T11:00:00Z', {
      flags: { disputed: true, ceaseContact: false, emailOptOut: false },
    });
    expect(decide(account, MIDMORNING_NY)).toMatchObject({
      action: 'wait',
      nextActionAt: '2026-03-04T15:00:00.000Z',
    });
  });

  it('stops every rung after a written request to cease contact', () => {
    const account = anAccountInCycle('2026-03-02T11:00:00Z', {
      flags: { disputed: false, ceaseContact: true, emailOptOut: false },
    });
    expect(decide(account, MIDMORNING_NY)).toMatchObject({ action: 'stop', outcome: 'stopped' });
  });

  it('skips an e-mail notice for a debtor who opted out, and records why', () => {
    const account = anAccountInCycle('2026-03-02T11:00:00Z', {
      flags: { disputed: false, ceaseContact: false, emailOptOut: true },
    });
    expect(decide(account, MIDMORNING_NY)).toMatchObject({ action: 'record', outcome: 'skipped', rung: 0 });
  });

  it('records a handover rung instead of sending', () => {
    const base = anAccountInCycle('2026-03-02T11:00:00Z', { oldestDueDate: '2026-01-01' });
    const account: Account = { ...base, cycle: { ...base.cycle!, rung: 3 } };
    expect(decide(account, MIDMORNING_NY)).toMatchObject({
      action: 'record',
      rungId: 'agency-handover',
      outcome: 'reached',
    });
  });

  it('stops when the execution belongs to an earlier cycle', () => {
    const account = anAccountInCycle('2026-03-02T11:00:00Z');
    expect(decide(account, MIDMORNING_NY, 'c0-2025-01-01')).toMatchObject({
      action: 'stop',
      outcome: 'ended',
    });
  });

  it('respects the contact cap over a rolling window', () => {
    const base = anAccountInCycle('2026-03-02T11:00:00Z', { oldestDueDate: '2026-01-01' });
    const contacts = Array.from({ length: 7 }, (_, day) => `2026-03-0${day + 1}T15:00:00.000Z`);
    const account: Account = { ...base, cycle: { ...base.cycle!, rung: 0, contacts } };
    const tight = { ...acme, ladder: { ...acme.ladder, minDaysBetweenNotices: 0 } };
    const decision = decideNextStep({
      account,
      cycleId: account.cycle!.cycleId,
      policy: tight.ladder,
      compliance: tight.compliance,
      creditorTimeZone: tight.timeZone,
      now: new Date('2026-03-07T16:00:00Z'),
    });
    // The oldest of the seven leaves the 7-day window at 2026-03-08T15:00Z.
    expect(decision).toMatchObject({ action: 'wait', nextActionAt: '2026-03-08T15:00:00.000Z' });
  });
});
