import { z } from 'zod';

/**
 * Contact rules for a tenant's debtors. Defaults follow US Regulation F (12 CFR 1006) for
 * consumer debt; a tenant may tighten them per jurisdiction.
 */
export const ComplianceProfile = z.object({
  profileId: z.string(),
  /** Contact allowed from this local hour (inclusive)... */
  contactWindowStartHour: z.number().int().min(0).max(23).default(8),
  /** ...until this local hour (exclusive): 21 means nothing at or after 21:00. */
  contactWindowEndHour: z.number().int().min(1).max(24).default(21),
  /** At most this many notices in any rolling window of `contactCapDays` days. */
  contactCap: z.number().int().min(1).default(7),
  contactCapDays: z.number().int().min(1).default(7),
  /** Zones assumed when the debtor's zone is unknown: contact only when every one is in the window. */
  fallbackTimeZones: z.array(z.string()).min(1).default(['America/New_York', 'America/Los_Angeles']),
});
export type ComplianceProfile = z.infer<typeof ComplianceProfile>;
