import * as z from '../../zod';

/**
 * Contact rules for a tenant's debtors. Defaults follow US Regulation F (12 CFR 1006) for
 * consumer debt; a tenant may tighten them per jurisdiction.
 */
export const ComplianceProfile = z.onFirstUse(() =>
  z.object({
    profileId: z.string(),
    /** Contact allowed from this local hour (inclusive)... */
    contactWindowStartHour: z._default(z.number().check(z.int(), z.minimum(0), z.maximum(23)), 8),
    /** ...until this local hour (exclusive): 21 means nothing at or after 21:00. */
    contactWindowEndHour: z._default(z.number().check(z.int(), z.minimum(1), z.maximum(24)), 21),
    /** At most this many notices in any rolling window of `contactCapDays` days. */
    contactCap: z._default(z.number().check(z.int(), z.minimum(1)), 7),
    contactCapDays: z._default(z.number().check(z.int(), z.minimum(1)), 7),
    /** Zones assumed when the debtor's zone is unknown: contact only when every one is in the window. */
    fallbackTimeZones: z._default(z.array(z.string()).check(z.minLength(1)), [
      'America/New_York',
      'America/Los_Angeles',
    ]),
  }),
);
export type ComplianceProfile = z.infer<typeof ComplianceProfile>;
