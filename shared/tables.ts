/**
 * The one place that names tables, keys and indexes. The CDK stack and the local runtime's
 * bootstrap both build their tables from these definitions, so the two homes cannot drift.
 */
import { createHash } from 'node:crypto';

export interface KeyAttribute {
  name: string;
  type: 'S' | 'N';
}
export interface IndexDefinition {
  indexName: string;
  partitionKey: KeyAttribute;
  sortKey: KeyAttribute;
  /** KEYS_ONLY keeps the index small: callers read the item itself afterwards. */
  projection: 'KEYS_ONLY' | 'ALL';
}
export interface TableDefinition {
  /** Logical name; the deployed name comes from the environment (ACCOUNTS_TABLE_NAME...). */
  logicalName: 'accounts' | 'audit';
  partitionKey: KeyAttribute;
  sortKey: KeyAttribute;
  globalSecondaryIndexes: IndexDefinition[];
}

/** Sparse index of accounts that owe money and have no active delinquency cycle. */
export const DUE_INDEX = 'due-index';
/** Shards of the due index per tenant, so a big portfolio does not make one hot partition. */
export const DUE_INDEX_SHARDS = 8;

export const accountsTable: TableDefinition = {
  logicalName: 'accounts',
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  globalSecondaryIndexes: [
    {
      indexName: DUE_INDEX,
      partitionKey: { name: 'duePk', type: 'S' },
      sortKey: { name: 'dueSk', type: 'S' },
      projection: 'KEYS_ONLY',
    },
  ],
};

export const auditTable: TableDefinition = {
  logicalName: 'audit',
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  globalSecondaryIndexes: [],
};

export const tables = [accountsTable, auditTable] as const;

const accountPk = (tenantId: string, accountId: string) => `T#${tenantId}#A#${accountId}`;

export const dueShard = (accountId: string): number =>
  createHash('sha256').update(accountId).digest().readUInt32BE(0) % DUE_INDEX_SHARDS;

/** Key builders: tenant first in every key, `#` as separator (ids are validated not to contain it). */
export const keys = {
  account: (tenantId: string, accountId: string) => ({ pk: accountPk(tenantId, accountId), sk: 'ACCOUNT' }),
  /** A page of the account's invoices (see shared/adapters/dynamo/invoice-pages.ts). */
  invoicePage: (tenantId: string, accountId: string, page: number) => ({
    pk: accountPk(tenantId, accountId),
    sk: `INVP#${String(page).padStart(4, '0')}`,
  }),
  invoicePagePrefix: 'INVP#',
  notice: (tenantId: string, accountId: string, cycleId: string, rung: number) => ({
    pk: accountPk(tenantId, accountId),
    sk: `NOTICE#${cycleId}#${String(rung).padStart(3, '0')}`,
  }),
  noticePrefix: 'NOTICE#',
  /** A payment applied to the account: its existence makes reconciling it again a no-op. */
  payment: (tenantId: string, accountId: string, paymentId: string) => ({
    pk: accountPk(tenantId, accountId),
    sk: `PAY#${paymentId}`,
  }),
  /** A payment waiting for a person (unmatched, currency mismatch, overpayment), per tenant. */
  review: (tenantId: string, paymentId: string) => ({ pk: `T#${tenantId}#REVIEW`, sk: `PAY#${paymentId}` }),
  /** Marker of an ingested file, by content checksum: the same file twice is recognised. */
  file: (tenantId: string, sha256: string) => ({ pk: `T#${tenantId}#FILE#${sha256}`, sk: 'FILE' }),
  /** Marker of a processed webhook event, by the provider's event id. */
  webhookEvent: (tenantId: string, provider: string, eventId: string) => ({
    pk: `T#${tenantId}#EVT#${provider}#${eventId}`,
    sk: 'EVENT',
  }),
  dueIndex: (tenantId: string, accountId: string, oldestDueDate: string) => ({
    duePk: `T#${tenantId}#DUE#${dueShard(accountId)}`,
    dueSk: `${oldestDueDate}#${accountId}`,
  }),
  dueIndexPartitions: (tenantId: string) =>
    Array.from({ length: DUE_INDEX_SHARDS }, (_, shard) => `T#${tenantId}#DUE#${shard}`),
  audit: (tenantId: string, subject: string, seq: number) => ({
    pk: `T#${tenantId}#S#${subject}`,
    sk: String(seq).padStart(12, '0'),
  }),
  auditSubject: (tenantId: string, subject: string) => `T#${tenantId}#S#${subject}`,
};
