import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { expect } from 'vitest';
import { localDynamoDbClientConfig, startDynamoDbLocal } from '../../infra/local/servers/dynamodb-local';
import { localS3ClientConfig, startS3Local } from '../../infra/local/servers/s3-local';
import { DynamoAccountStore } from '../../shared/adapters/dynamo/dynamo-account-store';
import { createTables } from '../../shared/adapters/dynamo/table-bootstrap';
import { S3BlobStore } from '../../shared/adapters/s3/s3-blob-store';
import type { Account, Invoice } from '../../shared/domain/account';
import { verifyChain } from '../../shared/domain/audit';
import type { AccountStore } from '../../shared/ports/account-store';
import { FixedClock } from '../../shared/ports/clock';
import { createLogger } from '../../shared/runtime/logger';
import { loadBundledTenants } from '../../shared/runtime/tenants';

export const BUCKET = 'arrears-inbox-test';

/**
 * Real local servers for one test file: an in-memory DynamoDB Local and an s3rver in a temp
 * folder, with fresh tables and bucket, and the real adapters over them.
 */
export const startLocalStack = async (now = '2026-03-02T14:00:00Z') => {
  const dir = await mkdtemp(join(tmpdir(), 'arrears-stack-'));
  const [dynamo, s3] = await Promise.all([startDynamoDbLocal({}), startS3Local({ directory: dir })]);
  const dynamoClient = new DynamoDBClient(localDynamoDbClientConfig(dynamo.endpoint));
  const s3Client = new S3Client(localS3ClientConfig(s3.endpoint));
  let tableCounter = 0;
  const freshStore = async () => {
    tableCounter += 1;
    const names = { accounts: `accounts-${tableCounter}`, audit: `audit-${tableCounter}` };
    await createTables(dynamoClient, names);
    return new DynamoAccountStore({
      client: dynamoClient,
      accountsTable: names.accounts,
      auditTable: names.audit,
    });
  };
  await s3.createBucket(BUCKET);
  return {
    dynamoClient,
    clock: new FixedClock(now),
    logger: createLogger('test', 'SILENT'),
    tenants: loadBundledTenants(),
    blobs: new S3BlobStore(s3Client),
    freshStore,
    stop: async () => {
      dynamoClient.destroy();
      s3Client.destroy();
      await Promise.allSettled([dynamo.stop(), s3.stop()]);
      await rm(dir, { recursive: true, force: true });
    },
  };
};
export type LocalStack = Awaited<ReturnType<typeof startLocalStack>>;

/** What a run leaves behind, without the fields that say when (versions, timestamps). */
export const endState = async (store: AccountStore, tenantId: string) => {
  const accounts: Account[] = [];
  for await (const account of store.listAccounts(tenantId)) accounts.push(account);
  const snapshot: Record<string, unknown> = {};
  for (const account of accounts.sort((a, b) => (a.accountId < b.accountId ? -1 : 1))) {
    const invoices = await store.getInvoices(tenantId, account.accountId);
    snapshot[account.accountId] = {
      contact: account.contact,
      balances: account.balances,
      oldestDueDate: account.oldestDueDate,
      openInvoiceCount: account.openInvoiceCount,
      invoices: invoices.map(({ updatedAt: _u, ...invoice }: Invoice) => invoice),
    };
    expect(verifyChain(await store.auditTrail(tenantId, account.accountId)).ok).toBe(true);
  }
  return snapshot;
};
