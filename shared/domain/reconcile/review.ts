import * as z from '../../zod';
import { Payment } from '../account';
import { IsoTimestamp, TenantId } from '../ids';
import { MinorUnits } from '../money';

export const ReviewKind = z.onFirstUse(() =>
  z.enum(['unmatched', 'currency_mismatch', 'overpaid', 'no_account']),
);
export type ReviewKind = z.infer<typeof ReviewKind>;

/** A payment (or the rest of one) that a person must place: the review queue of a tenant. */
export const ReviewItem = z.onFirstUse(() =>
  z.object({
    tenantId: TenantId,
    paymentId: z.string().check(z.minLength(1)),
    kind: ReviewKind,
    /** In words a collections officer understands: what was looked for and not found. */
    reason: z.string().check(z.minLength(1)),
    /** The amount nobody has placed yet, in the payment's currency. */
    unapplied: MinorUnits,
    payment: Payment,
    createdAt: IsoTimestamp,
  }),
);
export type ReviewItem = z.infer<typeof ReviewItem>;
