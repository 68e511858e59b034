import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoEventLedger } from '../../../shared/adapters/dynamo/dynamo-event-ledger';
import type { PaymentRecord, ReviewItem } from '../../../shared/domain/reconcile';

const ACCOUNTS = 'arrears-accounts';
const ddb = mockClient(DynamoDBDocumentClient);
const ledger = new DynamoEventLedger({
  client: new DynamoDBClient({ region: 'us-east-1' }),
  accountsTable: ACCOUNTS,
});

const payment = {
  tenantId: 'acme',
  paymentId: 'pi_1',
  channel: 'webhook',
  provider: 'stripe',
  amount: 130_000,
  currency: 'USD',
  receivedAt: '2026-03-20T14:59:57.000Z',
  accountId: 'CUST-1',
} as const;

describe('DynamoEventLedger', () => {
  beforeEach(() => ddb.reset());

  it('queues a review item once, conditionally, in the tenant review partition', async () => {
    const item: ReviewItem = {
      tenantId: 'acme',
      paymentId: 'pi_1',
      kind: 'overpaid',
      reason: 'USD 300.00 overpaid',
      unapplied: 30_000,
      payment,
      createdAt: '2026-03-20T15:00:05.000Z',
    };
    ddb
      .on(PutCommand)
      .resolvesOnce({})
      .rejectsOnce(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }));

    expect(await ledger.queueForReview(item)).toBe(true);
    expect(await ledger.queueForReview(item)).toBe(false);
    expect(ddb.commandCalls(PutCommand)[0]?.args[0].input).toEqual({
      TableName: ACCOUNTS,
      Item: { ...item, pk: 'T#acme#REVIEW', sk: 'PAY#pi_1', entity: 'review' },
      ConditionExpression: 'attribute_not_exists(#pk)',
      ExpressionAttributeNames: { '#pk': 'pk' },
    });
  });

  it('reads a payment record from the account partition without its storage attributes', async () => {
    const record: PaymentRecord = {
      ...payment,
      allocations: [{ invoiceId: 'INV-1', amount: 100_000 }],
      unapplied: 30_000,
      appliedAt: '2026-03-20T15:00:05.000Z',
    };
    ddb.on(GetCommand).resolves({});
    ddb
      .on(GetCommand, { Key: { pk: 'T#acme#A#CUST-1', sk: 'PAY#pi_1' } })
      .resolves({ Item: { ...record, pk: 'T#acme#A#CUST-1', sk: 'PAY#pi_1', entity: 'payment' } });

    expect(await ledger.getPayment('acme', 'CUST-1', 'pi_1')).toEqual(record);
    expect(await ledger.getPayment('acme', 'CUST-1', 'pi_2')).toBeUndefined();
    expect(ddb.commandCalls(GetCommand)[0]?.args[0].input).toEqual({
      TableName: ACCOUNTS,
      Key: { pk: 'T#acme#A#CUST-1', sk: 'PAY#pi_1' },
      ConsistentRead: true,
    });
  });

  it('reports a concurrent duplicate event as not recorded, and rethrows other failures', async () => {
    const record = {
      tenantId: 'acme',
      provider: 'stripe',
      eventId: 'evt_1',
      type: 'payment_intent.succeeded',
      receivedAt: '2026-03-20T15:00:00.000Z',
    };
    ddb
      .on(PutCommand)
      .rejectsOnce(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }))
      .rejectsOnce(new Error('ProvisionedThroughputExceeded'));
    expect(await ledger.recordEvent(record)).toBe(false);
    await expect(ledger.recordEvent(record)).rejects.toThrow('ProvisionedThroughputExceeded');
  });
});
