import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { type Payment, withDerivedBalances } from '../../shared/domain/account';
import { displayAmount } from '../../shared/domain/money';
import { applyPayment, type PaymentRecord, type ReviewKind } from '../../shared/domain/reconcile';
import { type AccountStore, VersionConflictError } from '../../shared/ports/account-store';
import type { EventLedger } from '../../shared/ports/event-ledger';
import type { Deps } from '../../shared/runtime/deps';
import { PaymentMessage, type ReconcileResult } from './schema';

export type ReconcileDeps = Pick<Deps, 'clock' | 'logger' | 'tenants'> & {
  store: Pick<AccountStore, 'getAccountsWithInvoices' | 'commit'>;
  ledger: EventLedger;
};

const ACTOR = { kind: 'system', id: 'reconcile-payments' } as const;

/** Commits lost to a concurrent change of the same account before the record is left to SQS to retry. */
const MAX_ATTEMPTS = 4;

const sendToReview = async (
  deps: ReconcileDeps,
  payment: Payment,
  kind: ReviewKind,
  reason: string,
  unapplied: number,
): Promise<void> => {
  const queued = await deps.ledger.queueForReview({
    tenantId: payment.tenantId,
    paymentId: payment.paymentId,
    kind,
    reason,
    unapplied,
    payment,
    createdAt: deps.clock.now().toISOString(),
  });
  deps.logger.info(queued ? 'payment sent to review' : 'payment already in review', {
    tenantId: payment.tenantId,
    paymentId: payment.paymentId,
    kind,
  });
};

/**
 * Applies one payment to the invoices of the account it names, at most once.
 *
 * 1. A payment already recorded on the account (a redelivered message, or the second Stripe
 *    event of one card payment) is skipped; its overpayment is put in review again in case a
 *    crash came between the commit and the review item.
 * 2. Match and apply purely ({@link applyPayment}); nothing matched goes to the review queue with
 *    the reason, and nothing is written to the account.
 * 3. Commit the invoice changes, the account's re-derived balances, the payment record and the
 *    `payment.applied` audit entry in one transaction. On a version conflict read everything again
 *    and decide again: `updateAccount` re-reads only the account, but the decision here also
 *    depends on the invoices and on whether the payment was recorded meanwhile.
 * 4. An overpayment's excess stays on the payment record as unapplied and goes to review.
 * A paid account's ladder stops at its next step: EvaluateAccount and SendNotice re-check first.
 */
export const reconcilePayment = async (deps: ReconcileDeps, payment: Payment): Promise<ReconcileResult> => {
  // A payment of an unknown tenant fails its record, to wait in the dead-letter queue for a person.
  deps.tenants.get(payment.tenantId);
  const { tenantId, paymentId, accountId } = payment;
  if (accountId === undefined) {
    const reason = `payment ${paymentId} names no account${payment.reference ? ` (reference ${payment.reference})` : ''}`;
    await sendToReview(deps, payment, 'no_account', reason, payment.amount);
    return { paymentId, outcome: 'review', reason };
  }

  for (let attempt = 1; ; attempt += 1) {
    const recorded = await deps.ledger.getPayment(tenantId, accountId, paymentId);
    if (recorded) {
      if (recorded.unapplied > 0) {
        const rest = displayAmount(recorded.unapplied, recorded.currency);
        await sendToReview(
          deps,
          payment,
          'overpaid',
          `${rest} of payment ${paymentId} left unapplied`,
          recorded.unapplied,
        );
      }
      return { paymentId, outcome: 'duplicate', reason: `payment ${paymentId} was already applied` };
    }
    // The account and its invoices in one read, which the store's commit then builds on.
    const read = (await deps.store.getAccountsWithInvoices(tenantId, [accountId])).get(accountId);
    if (!read) {
      const reason = `payment ${paymentId} names account ${accountId}, which does not exist`;
      await sendToReview(deps, payment, 'no_account', reason, payment.amount);
      return { paymentId, outcome: 'review', reason };
    }
    const { account, invoices } = read;
    const now = deps.clock.now().toISOString();
    const application = applyPayment(invoices, payment, now);
    if (application.outcome === 'unmatched' || application.outcome === 'currency_mismatch') {
      await sendToReview(deps, payment, application.outcome, application.reason, application.unapplied);
      return { paymentId, outcome: 'review', reason: application.reason };
    }

    const changed = new Map(application.updatedInvoices.map((invoice) => [invoice.invoiceId, invoice]));
    const record: PaymentRecord = {
      ...payment,
      accountId,
      allocations: application.allocations,
      unapplied: application.unapplied,
      appliedAt: now,
    };
    const after = withDerivedBalances(
      account,
      invoices.map((invoice) => changed.get(invoice.invoiceId) ?? invoice),
      now,
    );
    try {
      await deps.store.commit({
        before: account,
        after,
        invoices: application.updatedInvoices,
        payments: [record],
        audit: [
          {
            action: 'payment.applied',
            actor: ACTOR,
            at: now,
            reason: application.reason,
            data: {
              paymentId,
              provider: payment.provider,
              channel: payment.channel,
              amount: payment.amount,
              currency: payment.currency,
              allocations: application.allocations,
              unapplied: application.unapplied,
              balances: after.balances,
            },
          },
        ],
      });
    } catch (error) {
      if (error instanceof VersionConflictError && attempt < MAX_ATTEMPTS) continue;
      throw error;
    }
    deps.logger.info('payment applied', { tenantId, accountId, paymentId, outcome: application.outcome });
    if (application.unapplied > 0) {
      await sendToReview(deps, payment, 'overpaid', application.reason, application.unapplied);
    }
    return { paymentId, outcome: application.outcome, reason: application.reason };
  }
};

const reconcileRecord = async (deps: ReconcileDeps, record: SQSRecord): Promise<ReconcileResult> => {
  try {
    return await reconcilePayment(deps, PaymentMessage.parse(JSON.parse(record.body)));
  } catch (error) {
    deps.logger.error('payment not reconciled', { messageId: record.messageId, error: error as Error });
    throw error;
  }
};

/**
 * SQS consumer with partial batch responses: a record that fails (malformed, or a store error)
 * is reported alone in `batchItemFailures` and comes back after the visibility timeout (and to
 * the dead-letter queue in the end), while the others are deleted. When every record of a batch
 * fails, Powertools fails the invocation instead, which SQS treats the same way.
 */
export const makeHandler = (deps: ReconcileDeps) =>
  middy<SQSEvent, SQSBatchResponse>()
    .use(injectLambdaContext(deps.logger))
    .handler(async (event, context) =>
      processPartialResponse(
        event,
        (record: SQSRecord) => reconcileRecord(deps, record),
        new BatchProcessor(EventType.SQS),
        {
          context,
        },
      ),
    );
