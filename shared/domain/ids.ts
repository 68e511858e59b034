import * as z from '../zod';

/** A tenant is one creditor's portfolio; it is part of every key so portfolios never mix. */
export const TenantId = z.onFirstUse(() =>
  z
    .string()
    .check(
      z.regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be lower-case letters, digits and dashes (at most 63)'),
    ),
);
export type TenantId = z.infer<typeof TenantId>;

/**
 * Identifiers that come from a tenant's systems (customer id, invoice number). `#` is our key separator.
 */
export const ExternalId = z.onFirstUse(() =>
  z.string().check(
    z.trim(),
    z.minLength(1, 'is empty'),
    z.maxLength(128, 'is longer than 128 characters'),
    // Control characters (Unicode category Cc) written as their two ranges rather than \p{Cc}:
    // V8 checks a regex literal while it parses the bundle, and a property escape costs an ICU
    // lookup there (~3 M instructions for these two, at every cold start, used or not). Cc is closed
    // (Unicode's stability policy), so the ranges never go out of date.
    z.regex(
      // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
      /^[^#\s\x00-\x1f\x7f-\x9f][^#\x00-\x1f\x7f-\x9f]*$/u,
      'must not contain "#" or control characters',
    ),
  ),
);
export type ExternalId = z.infer<typeof ExternalId>;

/** A calendar date `YYYY-MM-DD` that exists (no 2026-02-30). */
export const IsoDate = z.onFirstUse(() =>
  z.string().check(
    z.regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date written YYYY-MM-DD'),
    z.refine((text) => {
      const date = new Date(`${text}T00:00:00Z`);
      return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(text);
    }, 'is not a real calendar date'),
  ),
);
export type IsoDate = z.infer<typeof IsoDate>;

export const IsoTimestamp = z.onFirstUse(() => z.iso.datetime({ offset: true }));
export type IsoTimestamp = z.infer<typeof IsoTimestamp>;

/** An IANA time zone the runtime knows (Europe/Berlin). */
export const TimeZone = z.onFirstUse(() =>
  z.string().check(
    z.refine((zone) => {
      try {
        new Intl.DateTimeFormat('en', { timeZone: zone });
        return zone.includes('/') || zone === 'UTC';
      } catch {
        return false;
      }
    }, 'is not an IANA time zone such as Europe/Berlin'),
  ),
);
export type TimeZone = z.infer<typeof TimeZone>;
