import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { PaymentRecord, ReviewItem } from '../../domain/reconcile';
import type { WebhookEventRecord } from '../../domain/webhook';
import type { EventLedger } from '../../ports/event-ledger';
import { keys } from '../../tables';
import { attr, ENTITY, type Entity, paymentFromItem } from './item-mapping';

export interface DynamoEventLedgerOptions {
  /** A configured client (region, endpoint, credentials); the ledger never builds its own. */
  client: DynamoDBClient;
  /** The accounts table: event markers, payments and review items live beside the accounts. */
  accountsTable: string;
}

const isConditionalCheckFailed = (error: unknown): boolean =>
  error instanceof ConditionalCheckFailedException ||
  (error as { name?: string } | null)?.name === 'ConditionalCheckFailedException';

/** {@link EventLedger} on the accounts table, with keys from `shared/tables.ts`. */
export class DynamoEventLedger implements EventLedger {
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(options: DynamoEventLedgerOptions) {
    this.#doc = DynamoDBDocumentClient.from(options.client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    this.#table = options.accountsTable;
  }

  async hasEvent(tenantId: string, provider: string, eventId: string): Promise<boolean> {
    const { Item } = await this.#doc.send(
      new GetCommand({
        TableName: this.#table,
        Key: keys.webhookEvent(tenantId, provider, eventId),
        ProjectionExpression: '#pk',
        ExpressionAttributeNames: { '#pk': attr.pk },
        ConsistentRead: true,
      }),
    );
    return Item !== undefined;
  }

  recordEvent(record: WebhookEventRecord): Promise<boolean> {
    return this.#putIfAbsent({
      ...record,
      ...keys.webhookEvent(record.tenantId, record.provider, record.eventId),
      [ENTITY]: 'webhook-event' satisfies Entity,
    });
  }

  async getPayment(
    tenantId: string,
    accountId: string,
    paymentId: string,
  ): Promise<PaymentRecord | undefined> {
    const { Item } = await this.#doc.send(
      new GetCommand({
        TableName: this.#table,
        Key: keys.payment(tenantId, accountId, paymentId),
        ConsistentRead: true,
      }),
    );
    return Item ? paymentFromItem(Item) : undefined;
  }

  queueForReview(item: ReviewItem): Promise<boolean> {
    return this.#putIfAbsent({
      ...item,
      ...keys.review(item.tenantId, item.paymentId),
      [ENTITY]: 'review' satisfies Entity,
    });
  }

  async #putIfAbsent(item: Record<string, unknown>): Promise<boolean> {
    try {
      await this.#doc.send(
        new PutCommand({
          TableName: this.#table,
          Item: item,
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': attr.pk },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }
}
