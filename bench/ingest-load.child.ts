/**
 * One end-to-end ingest in a process of its own, so its peak RSS is its own. Started by
 * ingest-load.bench.ts; reads its task as JSON from argv[2] and prints one JSON line of results.
 *
 * - `e2e`: `ingestInvoiceFile` from local S3 into fresh DynamoDB Local tables.
 * - `no-store`: the same path with a store that keeps nothing (every account new, every commit
 *   accepted at once): parse, validate, regroup and plan without DynamoDB, for the memory of a
 *   file too large to load in the time at hand.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { type IngestOptions, ingestInvoiceFile } from '../functions/ingest-invoices/ingest-invoices';
import {
  DYNAMODB_LOCAL_TRANSACTIONS_IN_FLIGHT,
  localDynamoDbClientConfig,
} from '../infra/local/servers/dynamodb-local';
import { localS3ClientConfig } from '../infra/local/servers/s3-local';
import { DynamoAccountStore } from '../shared/adapters/dynamo/dynamo-account-store';
import { S3BlobStore } from '../shared/adapters/s3/s3-blob-store';
import type { Account } from '../shared/domain/account';
import type { FileMarker } from '../shared/domain/ingest-file/file-marker';
import type { AccountChange, AccountStore } from '../shared/ports/account-store';
import { systemClock } from '../shared/ports/clock';
import { createLogger } from '../shared/runtime/logger';
import { loadBundledTenants } from '../shared/runtime/tenants';

export interface ChildTask {
  mode: 'e2e' | 'no-store';
  dynamoEndpoint?: string;
  tables?: { accounts: string; audit: string };
  s3Endpoint: string;
  bucket: string;
  key: string;
  writeConcurrency?: number;
  options?: IngestOptions;
}

export interface ChildResult {
  ms: number;
  /** From the start until the store was first asked for accounts: the parse and regroup phase. */
  parseMs: number;
  rowsRead: number;
  applied: number;
  rejected: number;
  maxRssMb: number;
  heapUsedMb: number;
  /** CPU time of this process (user + system), to tell the ingest's own work from DynamoDB Local's. */
  cpuMs: number;
}

/** Remembers only what ingest asks of markers; accounts are always new and every commit lands. */
const noStore = (): AccountStore => {
  let marker: FileMarker | undefined;
  const stored = (change: AccountChange): Account => ({
    ...change.after,
    version: (change.before?.version ?? 0) + 1,
  });
  return {
    getAccount: async () => undefined,
    getAccounts: async () => new Map(),
    getInvoices: async () => [],
    getNotice: async () => undefined,
    listNotices: async () => [],
    listAccounts: async function* () {},
    listDueAccounts: async function* () {},
    commit: async (change) => stored(change),
    commitMany: async (changes) => ({ committed: changes.map(stored), conflicts: [] }),
    getAccountsWithInvoices: async () => new Map(),
    recordNoticeIntent: async () => true,
    auditTrail: async () => [],
    getFileMarker: async () => marker,
    putFileMarker: async (next) => {
      marker = next;
      return true;
    },
    completeFileMarker: async (_tenantId, _sha256, completion) => {
      marker = { ...marker!, ...completion } as FileMarker;
      return marker;
    },
  };
};

const task = JSON.parse(process.argv[2] ?? '{}') as ChildTask;
const dynamo =
  task.mode === 'e2e' ? new DynamoDBClient(localDynamoDbClientConfig(task.dynamoEndpoint!)) : undefined;
const s3 = new S3Client(localS3ClientConfig(task.s3Endpoint));
const store: AccountStore = dynamo
  ? new DynamoAccountStore({
      client: dynamo,
      accountsTable: task.tables!.accounts,
      auditTable: task.tables!.audit,
      // As the local runtime does: DynamoDB Local serialises transactions.
      writeConcurrency: task.writeConcurrency ?? DYNAMODB_LOCAL_TRANSACTIONS_IN_FLIGHT,
    })
  : noStore();

const started = performance.now();
const cpuAtStart = process.cpuUsage();
let firstRead: number | undefined;
const watched = new Proxy(store, {
  get(target, property) {
    const value = Reflect.get(target, property, target);
    if (typeof value !== 'function') return value;
    if (property === 'getAccounts') {
      return (...args: unknown[]) => {
        firstRead ??= performance.now();
        return value.apply(target, args);
      };
    }
    return value.bind(target);
  },
});
const receipt = await ingestInvoiceFile(
  {
    clock: systemClock,
    logger: createLogger('bench', 'SILENT'),
    tenants: loadBundledTenants(),
    store: watched,
    blobs: new S3BlobStore(s3),
  },
  { bucket: task.bucket, key: task.key },
  task.options ?? {},
);
const ended = performance.now();
const cpu = process.cpuUsage(cpuAtStart);
const result: ChildResult = {
  ms: ended - started,
  parseMs: (firstRead ?? ended) - started,
  rowsRead: receipt.rowsRead,
  applied: receipt.applied,
  rejected: receipt.rejected,
  // resourceUsage().maxRSS is in kilobytes.
  maxRssMb: process.resourceUsage().maxRSS / 1024,
  heapUsedMb: process.memoryUsage().heapUsed / 1024 / 1024,
  cpuMs: (cpu.user + cpu.system) / 1000,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
dynamo?.destroy();
s3.destroy();
