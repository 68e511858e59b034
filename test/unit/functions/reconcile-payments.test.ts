import { FullBatchFailureError } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { makeHandler, type ReconcileDeps } from '../../../functions/reconcile-payments/reconcile-payments';
import type { Account, Invoice, Payment } from '../../../shared/domain/account';
import type { PaymentRecord, ReviewItem } from '../../../shared/domain/reconcile';
import {
  type AccountChange,
  type AccountWithInvoices,
  VersionConflictError,
} from '../../../shared/ports/account-store';
import { FixedClock } from '../../../shared/ports/clock';
import type { EventLedger } from '../../../shared/ports/event-ledger';
import { anAccount, anInvoice, tenants } from '../../support/builders';

const NOW = '2026-03-20T15:00:05.000Z';

const context = {
  functionName: 'reconcile-payments',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:reconcile-payments',
  memoryLimitInMB: '256',
  awsRequestId: '3f6b1e2a-7b61-11e6-9a41-93e8deadbeef',
  logGroupName: '/aws/lambda/reconcile-payments',
  logStreamName: '2026/03/20/[$LATEST]abcdef',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 10_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
} satisfies Context;

const aPayment = (overrides: Partial<Payment> = {}): Payment => ({
  tenantId: 'acme',
  paymentId: 'pi_3R1xYzK2eZvKYlo21kQ7mN4p',
  channel: 'webhook',
  provider: 'stripe',
  amount: 125_000,
  currency: 'USD',
  receivedAt: '2026-03-20T14:59:57.000Z',
  accountId: 'CUST-1',
  invoiceId: 'INV-1',
  ...overrides,
});

const sqsRecord = (messageId: string, body: string): SQSRecord => ({
  messageId,
  receiptHandle: `AQEB${messageId}`,
  body,
  attributes: {
    ApproximateReceiveCount: '1',
    SentTimestamp: '1774018800000',
    SenderId: 'AROAEXAMPLE:payment-webhook',
    ApproximateFirstReceiveTimestamp: '1774018800100',
  },
  messageAttributes: {},
  md5OfBody: '0'.repeat(32),
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:arrears-payments',
  awsRegion: 'us-east-1',
});

const batch = (...records: SQSRecord[]): SQSEvent => ({ Records: records });
const message = (id: string, payment: Payment) => sqsRecord(id, JSON.stringify(payment));

/**
 * An in-memory account partition: `commit` checks the version like the store does and keeps the
 * payments it is given, where the ledger's `getPayment` finds them (as DynamoDB would).
 */
const world = (account: Account, invoices: Invoice[]) => {
  const accounts = new Map([[account.accountId, account]]);
  const invoicesOf = new Map([[account.accountId, invoices]]);
  const payments = new Map<string, PaymentRecord>();
  const reviews = new Map<string, ReviewItem>();
  const store = {
    getAccountsWithInvoices: vi.fn(async (_tenantId: string, accountIds: readonly string[]) => {
      const found = new Map<string, AccountWithInvoices>();
      for (const accountId of accountIds) {
        const account = accounts.get(accountId);
        if (account) found.set(accountId, { account, invoices: invoicesOf.get(accountId) ?? [] });
      }
      return found;
    }),
    commit: vi.fn(async (change: AccountChange) => {
      const current = accounts.get(change.after.accountId);
      if (current?.version !== change.before?.version) {
        throw new VersionConflictError(change.after.tenantId, change.after.accountId);
      }
      const stored = { ...change.after, version: (current?.version ?? 0) + 1 };
      accounts.set(stored.accountId, stored);
      const changed = new Map((change.invoices ?? []).map((invoice) => [invoice.invoiceId, invoice]));
      invoicesOf.set(
        stored.accountId,
        (invoicesOf.get(stored.accountId) ?? []).map((invoice) => changed.get(invoice.invoiceId) ?? invoice),
      );
      for (const payment of change.payments ?? [])
        payments.set(`${payment.accountId}/${payment.paymentId}`, payment);
      return stored;
    }),
  };
  const ledger: EventLedger = {
    hasEvent: vi.fn(async () => false),
    recordEvent: vi.fn(async () => true),
    getPayment: vi.fn(async (_tenantId: string, accountId: string, paymentId: string) =>
      payments.get(`${accountId}/${paymentId}`),
    ),
    queueForReview: vi.fn(async (item: ReviewItem) => {
      if (reviews.has(item.paymentId)) return false;
      reviews.set(item.paymentId, item);
      return true;
    }),
  };
  const deps: ReconcileDeps = {
    clock: new FixedClock(NOW),
    logger: new Logger({ serviceName: 'reconcile-payments', logLevel: 'SILENT' }),
    tenants,
    store,
    ledger,
  };
  return { deps, store, ledger, accounts, invoicesOf, payments, reviews, handler: makeHandler(deps) };
};

describe('reconcile-payments', () => {
  let account: Account;
  beforeEach(() => {
    account = anAccount({
      version: 3,
      balances: { USD: 125_000 },
      oldestDueDate: '2026-03-01',
      openInvoiceCount: 1,
    });
  });

  it('pays an invoice in full, re-derives the balances and commits invoice, payment and audit together', async () => {
    const invoice = anInvoice();
    const w = world(account, [invoice]);

    const response = await w.handler(batch(message('m-1', aPayment())), context);

    expect(response).toEqual({ batchItemFailures: [] });
    const { oldestDueDate: _, ...withoutDueDate } = account;
    expect(w.store.commit).toHaveBeenCalledTimes(1);
    expect(w.store.commit.mock.calls[0]?.[0]).toEqual({
      before: account,
      after: { ...withoutDueDate, balances: {}, openInvoiceCount: 0, updatedAt: NOW },
      invoices: [{ ...invoice, openAmount: 0, status: 'paid', updatedAt: NOW }],
      payments: [
        {
          ...aPayment(),
          allocations: [{ invoiceId: 'INV-1', amount: 125_000 }],
          unapplied: 0,
          appliedAt: NOW,
        },
      ],
      audit: [
        {
          action: 'payment.applied',
          actor: { kind: 'system', id: 'reconcile-payments' },
          at: NOW,
          reason: 'USD 1,250.00 paid invoice INV-1 in full',
          data: {
            paymentId: 'pi_3R1xYzK2eZvKYlo21kQ7mN4p',
            provider: 'stripe',
            channel: 'webhook',
            amount: 125_000,
            currency: 'USD',
            allocations: [{ invoiceId: 'INV-1', amount: 125_000 }],
            unapplied: 0,
            balances: {},
          },
        },
      ],
    });
    expect(w.reviews.size).toBe(0);
  });

  it('applies a partial payment and keeps the invoice open for the rest', async () => {
    const w = world(account, [
      anInvoice(),
      anInvoice({ invoiceId: 'INV-2', dueDate: '2026-04-01', amount: 10_000, openAmount: 10_000 }),
    ]);

    await w.handler(batch(message('m-1', aPayment({ amount: 25_000 }))), context);

    expect(w.accounts.get('CUST-1')).toMatchObject({
      balances: { USD: 110_000 },
      oldestDueDate: '2026-03-01',
      openInvoiceCount: 2,
      version: 4,
    });
    expect(w.invoicesOf.get('CUST-1')?.[0]).toMatchObject({ openAmount: 100_000, status: 'open' });
  });

  it('records an overpayment as unapplied on the payment and sends the excess to review', async () => {
    const w = world(account, [anInvoice()]);

    await w.handler(batch(message('m-1', aPayment({ amount: 130_000 }))), context);

    expect(w.payments.get('CUST-1/pi_3R1xYzK2eZvKYlo21kQ7mN4p')).toMatchObject({ unapplied: 5_000 });
    expect(w.reviews.get('pi_3R1xYzK2eZvKYlo21kQ7mN4p')).toEqual({
      tenantId: 'acme',
      paymentId: 'pi_3R1xYzK2eZvKYlo21kQ7mN4p',
      kind: 'overpaid',
      reason: 'USD 1,250.00 paid invoice INV-1 in full; USD 50.00 overpaid and left unapplied',
      unapplied: 5_000,
      payment: aPayment({ amount: 130_000 }),
      createdAt: NOW,
    });
  });

  it('sends a payment with an unknown reference to review and changes nothing', async () => {
    const w = world(account, [anInvoice()]);
    const payment = aPayment({ invoiceId: undefined, reference: 'INV-404' });

    const response = await w.handler(batch(message('m-1', payment)), context);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(w.store.commit).not.toHaveBeenCalled();
    expect(w.reviews.get(payment.paymentId)).toMatchObject({
      kind: 'unmatched',
      reason: 'no open invoice with reference INV-404 for account CUST-1',
      unapplied: 125_000,
    });
  });

  it('sends payments naming no account, or an account that does not exist, to review', async () => {
    const w = world(account, [anInvoice()]);

    await w.handler(
      batch(
        message(
          'm-1',
          aPayment({ paymentId: 'pi_a', accountId: undefined, invoiceId: undefined, reference: 'X-1' }),
        ),
        message('m-2', aPayment({ paymentId: 'pi_b', accountId: 'CUST-404' })),
      ),
      context,
    );

    expect(w.reviews.get('pi_a')).toMatchObject({
      kind: 'no_account',
      reason: 'payment pi_a names no account (reference X-1)',
    });
    expect(w.reviews.get('pi_b')).toMatchObject({
      kind: 'no_account',
      reason: 'payment pi_b names account CUST-404, which does not exist',
    });
    expect(w.store.commit).not.toHaveBeenCalled();
  });

  it('applies a redelivered payment once', async () => {
    const w = world(account, [anInvoice({ amount: 200_000, openAmount: 200_000 })]);
    const payment = aPayment({ amount: 50_000 });

    await w.handler(batch(message('m-1', payment)), context);
    const again = await w.handler(batch(message('m-1', payment)), context);

    expect(again).toEqual({ batchItemFailures: [] });
    expect(w.store.commit).toHaveBeenCalledTimes(1);
    expect(w.invoicesOf.get('CUST-1')?.[0]?.openAmount).toBe(150_000);
  });

  it('reports only the poison record of a batch as failed', async () => {
    const w = world(account, [
      anInvoice(),
      anInvoice({ invoiceId: 'INV-2', amount: 10_000, openAmount: 10_000 }),
    ]);

    const response = await w.handler(
      batch(
        message('m-good-1', aPayment({ paymentId: 'pi_1', amount: 1_000 })),
        sqsRecord('m-poison', '{"paymentId": "pi_2", "amount": "a lot"'),
        message('m-good-2', aPayment({ paymentId: 'pi_3', invoiceId: 'INV-2', amount: 10_000 })),
      ),
      context,
    );

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-poison' }] });
    expect([...w.payments.keys()].sort()).toEqual(['CUST-1/pi_1', 'CUST-1/pi_3']);
    expect(w.accounts.get('CUST-1')?.balances).toEqual({ USD: 124_000 });
  });

  it('reads again and decides again after a concurrent change of the account', async () => {
    const w = world(account, [anInvoice()]);
    w.store.commit.mockRejectedValueOnce(new VersionConflictError('acme', 'CUST-1'));

    const response = await w.handler(batch(message('m-1', aPayment({ amount: 1_000 }))), context);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(w.store.commit).toHaveBeenCalledTimes(2);
    expect(w.ledger.getPayment).toHaveBeenCalledTimes(2);
    expect(w.invoicesOf.get('CUST-1')?.[0]?.openAmount).toBe(124_000);
  });

  it('puts the excess of an applied overpayment in review again after a crash before the review item', async () => {
    const w = world(account, [anInvoice()]);
    vi.mocked(w.ledger.queueForReview).mockRejectedValueOnce(new Error('crash'));
    const payment = aPayment({ amount: 130_000 });

    // A batch whose every record failed fails the invocation: SQS redelivers all of it.
    await expect(w.handler(batch(message('m-1', payment)), context)).rejects.toThrow(FullBatchFailureError);
    const redelivery = await w.handler(batch(message('m-1', payment)), context);

    expect(redelivery).toEqual({ batchItemFailures: [] });
    expect(w.store.commit).toHaveBeenCalledTimes(1);
    expect(w.reviews.get(payment.paymentId)).toMatchObject({ kind: 'overpaid', unapplied: 5_000 });
  });
});
