import * as z from '../../zod';
import type { Account } from '../account/account';
import { owesMoney } from '../account/balances';
import { contactZones, nextAllowedByCap, nextContactWindow } from '../compliance/contact-window';
import type { ComplianceProfile } from '../compliance/profile';
import { IsoTimestamp } from '../ids';
import { addDays, dateIn, daysBetween, startOfLocalDay } from '../time/calendar';
import type { LadderPolicy } from './policy';

/** What the ladder does next, and why: every field is explainable from account + policy. */
export const LadderDecision = z.onFirstUse(() =>
  z.discriminatedUnion('action', [
    z.object({
      action: z.literal('send'),
      rung: z.number().check(z.int(), z.minimum(0)),
      rungId: z.string(),
      reason: z.string(),
      policyVersion: z.number().check(z.int()),
    }),
    z.object({
      action: z.literal('wait'),
      nextActionAt: IsoTimestamp,
      reason: z.string(),
      policyVersion: z.number().check(z.int()),
    }),
    /** Act on a rung that sends nothing (handover, bureau report, write-off) or skip a notice rung. */
    z.object({
      action: z.literal('record'),
      rung: z.number().check(z.int(), z.minimum(0)),
      rungId: z.string(),
      outcome: z.enum(['reached', 'skipped']),
      reason: z.string(),
      policyVersion: z.number().check(z.int()),
    }),
    z.object({
      action: z.literal('stop'),
      /** `cured`: nothing owed; `stopped`: contact must end; `ended`: the cycle is no longer this one. */
      outcome: z.enum(['cured', 'stopped', 'ended', 'exhausted']),
      reason: z.string(),
      policyVersion: z.number().check(z.int()),
    }),
  ]),
);
export type LadderDecision = z.infer<typeof LadderDecision>;

export interface DecisionInput {
  account: Account;
  cycleId: string;
  policy: LadderPolicy;
  compliance: ComplianceProfile;
  /** The creditor's zone: days past due count in the creditor's calendar. */
  creditorTimeZone: string;
  now: Date;
}

/** A disputed account is looked at again after this long; the dispute itself lifts the pause. */
const DISPUTE_RECHECK_MS = 86_400_000;

/**
 * Decides the ladder's next step for one account. Pure: same input, same decision.
 *
 * 1. The execution's cycle must be the account's active cycle; otherwise stop.
 * 2. Nothing owed: the cycle is cured. A stop-contact request ends the ladder. A dispute pauses it.
 * 3. The next rung acts once the oldest debt is old enough and the last notice is far enough back.
 * 4. A notice rung needs an e-mail channel the debtor has not opted out of (else it is skipped),
 *    room under the contact cap, and a moment inside the contact window of every possible zone.
 */
export const decideNextStep = (input: DecisionInput): LadderDecision => {
  const { account, policy, compliance, now } = input;
  const policyVersion = policy.version;
  const cycle = account.cycle;
  if (!cycle || cycle.cycleId !== input.cycleId || cycle.status !== 'active') {
    return {
      action: 'stop',
      outcome: 'ended',
      reason: 'this delinquency cycle is no longer active',
      policyVersion,
    };
  }
  if (!owesMoney(account) || !account.oldestDueDate) {
    return { action: 'stop', outcome: 'cured', reason: 'nothing is owed any more', policyVersion };
  }
  if (account.flags.ceaseContact) {
    return {
      action: 'stop',
      outcome: 'stopped',
      reason: 'the debtor asked in writing to stop contact',
      policyVersion,
    };
  }
  if (account.flags.disputed) {
    return {
      action: 'wait',
      nextActionAt: new Date(now.getTime() + DISPUTE_RECHECK_MS).toISOString(),
      reason: 'the debt is disputed: collection is paused until the dispute is resolved',
      policyVersion,
    };
  }
  const index = cycle.rung + 1;
  const rung = policy.rungs[index];
  if (!rung) {
    return {
      action: 'stop',
      outcome: 'exhausted',
      reason: 'every rung of the ladder has been acted on',
      policyVersion,
    };
  }
  const today = dateIn(now, input.creditorTimeZone);
  const daysPastDue = daysBetween(account.oldestDueDate, today);
  if (daysPastDue < rung.afterDaysPastDue) {
    const dueOn = addDays(account.oldestDueDate, rung.afterDaysPastDue);
    return {
      action: 'wait',
      nextActionAt: startOfLocalDay(dueOn, input.creditorTimeZone, now).toISOString(),
      reason: `"${rung.id}" acts at ${rung.afterDaysPastDue} days past due; the account is ${daysPastDue} days past due`,
      policyVersion,
    };
  }
  if (rung.kind !== 'notice') {
    return {
      action: 'record',
      rung: index,
      rungId: rung.id,
      outcome: 'reached',
      reason: `${daysPastDue} days past due reaches "${rung.id}"`,
      policyVersion,
    };
  }
  if (!account.contact.email || account.flags.emailOptOut) {
    return {
      action: 'record',
      rung: index,
      rungId: rung.id,
      outcome: 'skipped',
      reason: account.contact.email
        ? 'the debtor opted out of e-mail, the only channel of this notice'
        : 'no e-mail address is known for the debtor',
      policyVersion,
    };
  }
  let earliest = now;
  let why = '';
  if (cycle.lastNoticeAt) {
    const spacedUntil = new Date(Date.parse(cycle.lastNoticeAt) + policy.minDaysBetweenNotices * 86_400_000);
    if (spacedUntil > earliest) {
      earliest = spacedUntil;
      why = `at least ${policy.minDaysBetweenNotices} days between notices`;
    }
  }
  const capAllows = nextAllowedByCap(cycle.contacts, earliest, compliance);
  if (capAllows > earliest) {
    earliest = capAllows;
    why = `at most ${compliance.contactCap} contacts in ${compliance.contactCapDays} days`;
  }
  const zones = contactZones(account.contact.timeZone, compliance);
  const window = nextContactWindow(earliest, zones, compliance);
  if (!window) {
    return {
      action: 'record',
      rung: index,
      rungId: rung.id,
      outcome: 'skipped',
      reason: `no time of day is inside ${compliance.contactWindowStartHour}:00-${compliance.contactWindowEndHour}:00 in every possible zone (${zones.join(', ')})`,
      policyVersion,
    };
  }
  if (window > now) {
    if (window > earliest) {
      why = why
        ? `${why}, then the contact window`
        : `outside ${compliance.contactWindowStartHour}:00-${compliance.contactWindowEndHour}:00 in ${zones.join(', ')}`;
    }
    return {
      action: 'wait',
      nextActionAt: window.toISOString(),
      reason: `"${rung.id}" is due; waiting: ${why}`,
      policyVersion,
    };
  }
  return {
    action: 'send',
    rung: index,
    rungId: rung.id,
    reason: `${daysPastDue} days past due reaches "${rung.id}" (from ${rung.afterDaysPastDue} days)`,
    policyVersion,
  };
};
