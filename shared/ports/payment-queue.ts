import type { Payment } from '../domain/account';

/**
 * The queue between the edges that receive payments (webhooks, bank feeds) and reconcile. It
 * delivers at least once and in any order (a standard SQS queue has no deduplication), so the
 * consumer is idempotent by payment id.
 */
export interface PaymentQueue {
  /** Enqueues one payment; returns the queue's message id. */
  enqueue(payment: Payment): Promise<string>;
}
