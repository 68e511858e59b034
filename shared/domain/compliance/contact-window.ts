import { wallClock } from '../time/calendar';
import type { ComplianceProfile } from './profile';

const QUARTER_HOUR = 15 * 60_000;

const insideWindow = (instant: Date, zone: string, profile: ComplianceProfile): boolean => {
  const { hour } = wallClock(instant, zone);
  return hour >= profile.contactWindowStartHour && hour < profile.contactWindowEndHour;
};

/**
 * The zones a contact must respect: the debtor's own, or when it is unknown every zone the
 * profile lists (Reg F: "convenient in every possible location").
 */
export const contactZones = (debtorZone: string | undefined, profile: ComplianceProfile): string[] =>
  debtorZone ? [debtorZone] : profile.fallbackTimeZones;

/** True when every zone's local time is inside the contact window. */
export const mayContactAt = (instant: Date, zones: readonly string[], profile: ComplianceProfile): boolean =>
  zones.every((zone) => insideWindow(instant, zone, profile));

/**
 * The first quarter-hour at or after `from` when every zone is inside the window. Searches
 * one week ahead; with windows that never overlap (zones 12 hours apart and a short window)
 * there is none, and the caller must not contact.
 */
export const nextContactWindow = (
  from: Date,
  zones: readonly string[],
  profile: ComplianceProfile,
): Date | undefined => {
  if (mayContactAt(from, zones, profile)) return from;
  const probe = new Date(Math.ceil(from.getTime() / QUARTER_HOUR) * QUARTER_HOUR);
  for (let i = 0; i < 7 * 24 * 4; i += 1) {
    if (mayContactAt(probe, zones, profile)) return probe;
    probe.setTime(probe.getTime() + QUARTER_HOUR);
  }
  return undefined;
};

/**
 * When the contact cap allows the next contact: at most `contactCap` contacts in any rolling
 * `contactCapDays` window. Returns `now` when a contact is allowed now.
 */
export const nextAllowedByCap = (
  contacts: readonly string[],
  now: Date,
  profile: ComplianceProfile,
): Date => {
  const windowMs = profile.contactCapDays * 86_400_000;
  const recent = contacts
    .map((at) => Date.parse(at))
    .filter((at) => at > now.getTime() - windowMs)
    .sort((a, b) => a - b);
  if (recent.length < profile.contactCap) return now;
  const blocking = recent[recent.length - profile.contactCap] ?? now.getTime();
  return new Date(blocking + windowMs);
};
