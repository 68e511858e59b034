import * as z from '../../zod';
import type { Payment } from '../account';
import { IsoTimestamp, TenantId } from '../ids';

/** One event of a provider's webhook, normalised. A delivery may carry several (GoCardless). */
export interface WebhookEvent {
  /** The provider's event id: the dedupe key, since providers redeliver. */
  eventId: string;
  /** The provider's event type (`payment_intent.succeeded`, `payments.confirmed`). */
  type: string;
  /** Present when the event means money arrived. */
  payment?: Payment;
  /** Why an event that is not a payment is acknowledged and dropped, for the log. */
  ignoredBecause?: string;
}

/** The ledger's record that a webhook event was handled: a redelivery of it is acknowledged and dropped. */
export const WebhookEventRecord = z.onFirstUse(() =>
  z.object({
    tenantId: TenantId,
    provider: z.string().check(z.minLength(1)),
    eventId: z.string().check(z.minLength(1)),
    type: z.string(),
    paymentId: z.optional(z.string()),
    receivedAt: IsoTimestamp,
  }),
);
export type WebhookEventRecord = z.infer<typeof WebhookEventRecord>;
