import * as z from '../../zod';
import { Payment } from '../account';
import { ExternalId, IsoTimestamp } from '../ids';
import { MinorUnits } from '../money';

/** The part of a payment that went to one invoice. */
export const Allocation = z.onFirstUse(() => z.object({ invoiceId: ExternalId, amount: MinorUnits }));
export type Allocation = z.infer<typeof Allocation>;

/**
 * A payment as applied to one account, stored in the account's partition with the invoice
 * changes it made (one transaction). Its existence is what makes reconciling the same payment
 * again (a redelivered message, the second Stripe event of one card payment) a no-op.
 */
export const PaymentRecord = z.onFirstUse(() =>
  z.extend(Payment, {
    accountId: ExternalId,
    allocations: z.array(Allocation),
    /** What is left after the allocations (an overpayment): it waits in the review queue. */
    unapplied: MinorUnits,
    appliedAt: IsoTimestamp,
  }),
);
export type PaymentRecord = z.infer<typeof PaymentRecord>;
