import type { PaymentRecord, ReviewItem } from '../domain/reconcile';
import type { WebhookEventRecord } from '../domain/webhook';

/**
 * What arrived and what became of it: the webhook events already handled, the payments already
 * applied, and the payments waiting for a person. Every write is conditional, so a redelivery
 * finds the work done instead of doing it twice.
 */
export interface EventLedger {
  /** True when this provider event of this tenant was handled before. */
  hasEvent(tenantId: string, provider: string, eventId: string): Promise<boolean>;
  /** Records a handled event. Returns false when it was already recorded (a concurrent duplicate). */
  recordEvent(record: WebhookEventRecord): Promise<boolean>;
  /**
   * The payment as applied to the account, if it was: the store commits it with the invoice
   * changes it made (see `AccountChange.payments`).
   */
  getPayment(tenantId: string, accountId: string, paymentId: string): Promise<PaymentRecord | undefined>;
  /** Puts a payment in the tenant's review queue. Returns false when it is already there. */
  queueForReview(item: ReviewItem): Promise<boolean>;
}
