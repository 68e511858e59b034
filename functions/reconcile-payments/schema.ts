import { Payment } from '../../shared/domain/account';
import * as z from '../../shared/zod';

/** The body of a payments-queue message: one payment as JSON (see SqsPaymentQueue). */
export const PaymentMessage = Payment;
export type PaymentMessage = z.infer<typeof PaymentMessage>;

export const ReconcileOutcome = z.onFirstUse(() => z.enum(['applied', 'overpaid', 'review', 'duplicate']));
export type ReconcileOutcome = z.infer<typeof ReconcileOutcome>;

/** What reconciling one payment did. */
export const ReconcileResult = z.onFirstUse(() =>
  z.object({
    paymentId: z.string(),
    outcome: ReconcileOutcome,
    reason: z.string(),
  }),
);
export type ReconcileResult = z.infer<typeof ReconcileResult>;
