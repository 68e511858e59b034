import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DynamoDbLocal,
  JavaUnavailableError,
  localDynamoDbClientConfig,
  startDynamoDbLocal,
} from '../../infra/local/servers/dynamodb-local';
import { DynamoAccountStore } from '../../shared/adapters/dynamo/dynamo-account-store';
import { INVOICE_PAGE_TARGET_BYTES, invoiceBytes } from '../../shared/adapters/dynamo/invoice-pages';
import { createTables } from '../../shared/adapters/dynamo/table-bootstrap';
import type { Account, Invoice } from '../../shared/domain/account';
import { type AuditDraft, GENESIS_HASH, verifyChain } from '../../shared/domain/audit';
import type { NoticeRecord } from '../../shared/domain/notice';
import type { PaymentRecord } from '../../shared/domain/reconcile';
import {
  type AccountChange,
  FileMarkerMissingError,
  VersionConflictError,
} from '../../shared/ports/account-store';
import { keys } from '../../shared/tables';

const TABLES = { accounts: 'arrears-accounts', audit: 'arrears-audit' };
const NOW = '2026-03-01T10:00:00Z';

let server: DynamoDbLocal;
let client: DynamoDBClient;
let store: DynamoAccountStore;
let transactWrites = 0;
const scratch: string[] = [];

beforeAll(async () => {
  server = await startDynamoDbLocal({});
  client = new DynamoDBClient(localDynamoDbClientConfig(server.endpoint));
  // Counts the transactions the store really sends, to see how commitMany packs them.
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'TransactWriteItemsCommand') transactWrites += 1;
      return next(args);
    },
    { step: 'initialize', name: 'countTransactWrites' },
  );
  await createTables(client, TABLES);
  store = new DynamoAccountStore({ client, accountsTable: TABLES.accounts, auditTable: TABLES.audit });
});

afterAll(async () => {
  client?.destroy();
  await server?.stop();
  await Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true })));
});

const tempDir = async (): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), 'arrears-ddb-test-'));
  scratch.push(dir);
  return dir;
};

const anAccount = (tenantId: string, accountId: string, overrides: Partial<Account> = {}): Account => ({
  tenantId,
  accountId,
  contact: { name: 'Ada Lovelace', email: 'ada@example.com', timeZone: 'Europe/London' },
  flags: { disputed: false, ceaseContact: false, emailOptOut: false },
  balances: { USD: 12_000 },
  oldestDueDate: '2026-01-31',
  openInvoiceCount: 1,
  version: 0,
  auditSeq: 0,
  auditHead: GENESIS_HASH,
  createdAt: NOW,
  updatedAt: NOW,
  ...overrides,
});

const anInvoice = (
  tenantId: string,
  accountId: string,
  invoiceId: string,
  overrides: Partial<Invoice> = {},
): Invoice => ({
  tenantId,
  accountId,
  invoiceId,
  kind: 'invoice',
  currency: 'USD',
  amount: 12_000,
  openAmount: 12_000,
  issueDate: '2026-01-01',
  dueDate: '2026-01-31',
  status: 'open',
  source: { file: `inbox/${tenantId}/invoices/jan.csv`, line: 2 },
  digest: `digest-${invoiceId}`,
  updatedAt: NOW,
  ...overrides,
});

const aDraft = (action: string, data: Record<string, unknown> = {}): AuditDraft => ({
  action,
  actor: { kind: 'system', id: 'ingest-invoices' },
  reason: `test: ${action}`,
  at: NOW,
  data,
});

const activeCycle = (executionStarted: boolean): NonNullable<Account['cycle']> => ({
  cycleId: 'cycle-1',
  cycleNumber: 1,
  startedAt: NOW,
  overdueSince: '2026-01-31',
  executionName: 'ladder-1',
  executionStarted,
  rung: -1,
  contacts: [],
  status: 'active',
});

const collect = async <T>(iterable: AsyncIterable<T>): Promise<T[]> => {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
};

const create = (account: Account, invoices: Invoice[] = []): Promise<Account> =>
  store.commit({ before: null, after: account, invoices, audit: [aDraft('account created')] });

describe('DynamoAccountStore on DynamoDB Local', () => {
  it('leaves existing tables alone when bootstrapped again', async () => {
    await expect(createTables(client, TABLES)).resolves.toBeUndefined();
  });

  it('commits a new account with its invoices and audit entry, and reads them back', async () => {
    const invoices = [
      anInvoice('t-new', 'C-1', 'INV-1'),
      anInvoice('t-new', 'C-1', 'INV-2', { reference: undefined }),
    ];
    const stored = await store.commit({
      before: null,
      after: anAccount('t-new', 'C-1', { balances: { USD: 24_000 }, openInvoiceCount: 2 }),
      invoices,
      audit: [
        aDraft('invoices ingested', {
          file: 'jan.csv',
          rows: [2, 3],
          amounts: { USD: 24_000 },
          note: undefined,
        }),
      ],
    });

    expect(stored).toMatchObject({ version: 1, auditSeq: 1 });
    await expect(store.getAccount('t-new', 'C-1')).resolves.toEqual(stored);
    await expect(store.getInvoices('t-new', 'C-1')).resolves.toEqual(invoices);
    const trail = await store.auditTrail('t-new', 'C-1');
    expect(trail).toHaveLength(1);
    expect(verifyChain(trail)).toEqual({ ok: true, length: 1, head: stored.auditHead });
  });

  it('refuses a second commit from a stale version and changes nothing', async () => {
    const first = await create(anAccount('t-stale', 'C-1'), [anInvoice('t-stale', 'C-1', 'INV-1')]);
    const second = await store.commit({
      before: first,
      after: { ...first, balances: { USD: 2_000 } },
      invoices: [anInvoice('t-stale', 'C-1', 'INV-1', { openAmount: 2_000 })],
      audit: [aDraft('payment applied')],
    });
    expect(second.version).toBe(2);

    const stale: AccountChange = {
      before: first,
      after: { ...first, balances: { USD: 99_000 } },
      invoices: [anInvoice('t-stale', 'C-1', 'INV-9')],
      audit: [aDraft('late writer')],
    };
    await expect(store.commit(stale)).rejects.toThrow(VersionConflictError);

    await expect(store.getAccount('t-stale', 'C-1')).resolves.toEqual(second);
    expect(
      (await store.getInvoices('t-stale', 'C-1')).map((invoice) => [invoice.invoiceId, invoice.openAmount]),
    ).toEqual([['INV-1', 2_000]]);
    const trail = await store.auditTrail('t-stale', 'C-1');
    expect(trail.map((entry) => entry.action)).toEqual(['account created', 'payment applied']);
    expect(verifyChain(trail)).toMatchObject({ ok: true, head: second.auditHead });
  });

  it('records an applied payment once: applying it again from a fresh read is a conflict', async () => {
    const tenant = 't-pay';
    const created = await create(anAccount(tenant, 'C-1'), [anInvoice(tenant, 'C-1', 'INV-1')]);
    const payment: PaymentRecord = {
      tenantId: tenant,
      accountId: 'C-1',
      paymentId: 'PAY-1',
      channel: 'bank',
      provider: 'camt053',
      amount: 12_000,
      currency: 'USD',
      receivedAt: NOW,
      allocations: [{ invoiceId: 'INV-1', amount: 12_000 }],
      unapplied: 0,
      appliedAt: NOW,
    };
    const applyFrom = (before: Account): AccountChange => ({
      before,
      after: { ...before, balances: {}, oldestDueDate: undefined, openInvoiceCount: 0 },
      invoices: [anInvoice(tenant, 'C-1', 'INV-1', { openAmount: 0, status: 'paid' })],
      payments: [payment],
      audit: [aDraft('payment applied')],
    });

    const paid = await store.commit(applyFrom(created));
    await expect(store.commit(applyFrom(paid))).rejects.toThrow(VersionConflictError);

    const raw = new DynamoDBClient(localDynamoDbClientConfig(server.endpoint));
    try {
      const { Item } = await DynamoDBDocumentClient.from(raw).send(
        new GetCommand({ TableName: TABLES.accounts, Key: keys.payment(tenant, 'C-1', 'PAY-1') }),
      );
      expect(Item).toMatchObject({ ...payment, entity: 'payment' });
    } finally {
      raw.destroy();
    }
    await expect(store.getAccount(tenant, 'C-1')).resolves.toEqual(paid);
    expect(await store.auditTrail(tenant, 'C-1')).toHaveLength(2);
  });

  it('refuses to create an account that already exists', async () => {
    await create(anAccount('t-twice', 'C-1'));
    await expect(create(anAccount('t-twice', 'C-1'))).rejects.toThrow(VersionConflictError);
  });

  it('keeps an audit trail that verifies, and a tampered entry breaks it', async () => {
    let account = await create(anAccount('t-audit', 'C-1'));
    for (const action of ['notice sent', 'payment applied', 'cycle cured']) {
      account = await store.commit({
        before: account,
        after: account,
        audit: [aDraft(action, { step: action })],
      });
    }
    const trail = await store.auditTrail('t-audit', 'C-1');
    expect(trail.map((entry) => entry.seq)).toEqual([1, 2, 3, 4]);
    expect(verifyChain(trail)).toEqual({ ok: true, length: 4, head: account.auditHead });

    const raw = new DynamoDBClient(localDynamoDbClientConfig(server.endpoint));
    try {
      await DynamoDBDocumentClient.from(raw).send(
        new UpdateCommand({
          TableName: TABLES.audit,
          Key: keys.audit('t-audit', 'C-1', 3),
          UpdateExpression: 'SET reason = :reason',
          ExpressionAttributeValues: { ':reason': 'nothing happened here' },
        }),
      );
    } finally {
      raw.destroy();
    }

    expect(verifyChain(await store.auditTrail('t-audit', 'C-1'))).toMatchObject({
      ok: false,
      seq: 3,
      problem: 'content does not match its hash',
    });
  });

  it('lists due accounts: overdue without a running ladder, not those with one or owing nothing', async () => {
    const tenant = 't-due';
    await create(anAccount(tenant, 'overdue'));
    await create(anAccount(tenant, 'odd # free / id with spaces', { oldestDueDate: '2026-02-15' }));
    await create(anAccount(tenant, 'ladder-running', { cycle: activeCycle(true) }));
    await create(anAccount(tenant, 'ladder-not-started', { cycle: activeCycle(false) }));
    await create(
      anAccount(tenant, 'paid-up', { balances: {}, oldestDueDate: undefined, openInvoiceCount: 0 }),
    );
    await create(anAccount(tenant, 'not-yet-due', { oldestDueDate: '2026-03-01' }));
    await create(anAccount('t-due-other', 'overdue'));

    const due = await collect(store.listDueAccounts(tenant, '2026-03-01'));

    expect(due.sort((a, b) => a.accountId.localeCompare(b.accountId))).toEqual([
      { accountId: 'ladder-not-started', oldestDueDate: '2026-01-31' },
      { accountId: 'odd # free / id with spaces', oldestDueDate: '2026-02-15' },
      { accountId: 'overdue', oldestDueDate: '2026-01-31' },
    ]);
  });

  it('drops an account from the due index once its ladder runs', async () => {
    const tenant = 't-due-start';
    const account = await create(anAccount(tenant, 'C-1'));
    expect(await collect(store.listDueAccounts(tenant, '2026-03-01'))).toHaveLength(1);

    await store.commit({
      before: account,
      after: { ...account, cycle: activeCycle(true) },
      audit: [aDraft('ladder started')],
    });

    expect(await collect(store.listDueAccounts(tenant, '2026-03-01'))).toEqual([]);
  });

  it('commits 60 accounts in several transactions and reports the stale one while committing the rest', async () => {
    const tenant = 't-many';
    const staleBase = await create(anAccount(tenant, 'M-stale'));
    const current = await store.commit({ before: staleBase, after: staleBase, audit: [aDraft('touched')] });
    const fresh = Array.from({ length: 59 }, (_, i): AccountChange => {
      const accountId = `M-${String(i).padStart(2, '0')}`;
      return {
        before: null,
        after: anAccount(tenant, accountId),
        invoices: [anInvoice(tenant, accountId, `INV-${i}`)],
        audit: [aDraft('account created')],
      };
    });
    const stale: AccountChange = {
      before: staleBase,
      after: { ...staleBase, balances: { USD: 1 } },
      invoices: [anInvoice(tenant, 'M-stale', 'INV-stale')],
      audit: [aDraft('stale write')],
    };
    const changes = [...fresh.slice(0, 30), stale, ...fresh.slice(30)];
    const before = transactWrites;

    const result = await store.commitMany(changes);

    // 60 changes of 3 actions: two transactions of at most 100 actions, then the retry of the
    // transaction that held the stale change.
    expect(transactWrites - before).toBe(3);
    expect(result.conflicts).toEqual([stale]);
    expect(result.committed.map((account) => account.accountId)).toEqual(
      fresh.map((change) => change.after.accountId),
    );
    const read = await store.getAccountsWithInvoices(tenant, [
      ...changes.map((change) => change.after.accountId),
    ]);
    expect(read.size).toBe(60);
    expect(read.get('M-stale')).toEqual({ account: current, invoices: [] });
    for (const change of fresh) {
      const found = read.get(change.after.accountId);
      expect(found?.account.version).toBe(1);
      expect(found?.invoices).toEqual(change.invoices);
    }
  });

  it('keeps hundreds of invoices on several pages: later changes update and add without losing any', async () => {
    const tenant = 'pages';
    // ~900 bytes each on a page: 300 of them take dozens of pages.
    const invoices = Array.from({ length: 300 }, (_, i) =>
      anInvoice(tenant, 'C-1', `INV-${String(i).padStart(3, '0')}`, { reference: 'R'.repeat(400) }),
    );
    const chunks = [
      invoices.slice(0, 90),
      invoices.slice(90, 180),
      invoices.slice(180, 270),
      invoices.slice(270),
    ];
    let account = await store.commit({
      before: null,
      after: anAccount(tenant, 'C-1'),
      invoices: chunks[0],
      audit: [aDraft('invoices.ingested')],
    });
    for (const chunk of chunks.slice(1)) {
      const { committed, conflicts } = await store.commitMany([
        { before: account, after: account, invoices: chunk, audit: [aDraft('invoices.ingested')] },
      ]);
      expect(conflicts).toEqual([]);
      account = committed[0]!;
    }

    // One invoice on the first page paid, one added: the rest of the page stays.
    const paid = { ...invoices[5]!, openAmount: 0, status: 'paid' as const };
    const added = anInvoice(tenant, 'C-1', 'INV-999');
    await store.commit({
      before: account,
      after: account,
      invoices: [paid, added],
      audit: [aDraft('payment.applied')],
    });

    const expected = [...invoices.slice(0, 5), paid, ...invoices.slice(6), added];
    expect(await store.getInvoices(tenant, 'C-1')).toEqual(expected);
    expect((await store.getAccountsWithInvoices(tenant, ['C-1'])).get('C-1')?.invoices).toEqual(expected);
    const pages = await DynamoDBDocumentClient.from(client).send(
      new QueryCommand({
        TableName: TABLES.accounts,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: {
          ':pk': keys.account(tenant, 'C-1').pk,
          ':prefix': keys.invoicePagePrefix,
        },
      }),
    );
    // Pages are filled before new ones are opened: as few as the bytes need, give or take the last.
    const bytes = expected.reduce((sum, invoice) => sum + invoiceBytes(invoice), 0);
    expect(pages.Items?.length).toBeGreaterThanOrEqual(Math.ceil(bytes / INVOICE_PAGE_TARGET_BYTES));
    expect(pages.Items?.length).toBeLessThanOrEqual(Math.ceil(bytes / INVOICE_PAGE_TARGET_BYTES) + 1);
    expect(verifyChain(await store.auditTrail(tenant, 'C-1'))).toMatchObject({ ok: true });
  });

  it('lists the accounts of one tenant only', async () => {
    await create(anAccount('t-list', 'A'));
    await create(anAccount('t-list', 'B'));
    await create(anAccount('t-list-2', 'C'));

    const accounts = await collect(store.listAccounts('t-list'));

    expect(accounts.map((account) => account.accountId).sort()).toEqual(['A', 'B']);
  });

  it('records a notice intent once per cycle and rung', async () => {
    const notice: NoticeRecord = {
      tenantId: 't-notice',
      accountId: 'C-1',
      cycleId: 'cycle-1',
      rung: 0,
      rungId: 'reminder',
      channel: 'email',
      to: 'ada@example.com',
      subject: 'Friendly reminder',
      status: 'intent',
      createdAt: NOW,
    };

    await expect(store.recordNoticeIntent(notice)).resolves.toBe(true);
    await expect(store.recordNoticeIntent({ ...notice, subject: 'again' })).resolves.toBe(false);
    await expect(store.getNotice('t-notice', 'C-1', 'cycle-1', 0)).resolves.toEqual(notice);
    await expect(store.listNotices('t-notice', 'C-1')).resolves.toEqual([notice]);
  });

  it('claims a file marker once and completes it', async () => {
    const marker = {
      tenantId: 't-files',
      sha256: 'a'.repeat(64),
      key: 'inbox/t-files/invoices/jan.csv',
      status: 'processing' as const,
      firstSeenAt: NOW,
    };

    await expect(store.putFileMarker(marker)).resolves.toBe(true);
    await expect(store.putFileMarker({ ...marker, key: 'inbox/t-files/invoices/copy.csv' })).resolves.toBe(
      false,
    );
    await expect(store.getFileMarker('t-files', 'a'.repeat(64))).resolves.toEqual(marker);

    const completion = {
      status: 'done' as const,
      completedAt: '2026-03-01T10:01:00Z',
      receiptKey: 'receipts/jan.json',
    };
    await expect(store.completeFileMarker('t-files', 'a'.repeat(64), completion)).resolves.toEqual({
      ...marker,
      ...completion,
    });
    await expect(
      store.completeFileMarker('t-files', 'b'.repeat(64), { status: 'rejected', completedAt: NOW }),
    ).rejects.toThrow(FileMarkerMissingError);
    await expect(store.getFileMarker('t-files', 'b'.repeat(64))).resolves.toBeUndefined();
  });
});

describe('startDynamoDbLocal', () => {
  it('keeps data in dbPath across restarts', async () => {
    const dbPath = await tempDir();
    const first = await startDynamoDbLocal({ dbPath });
    const firstClient = new DynamoDBClient(localDynamoDbClientConfig(first.endpoint));
    try {
      await createTables(firstClient, TABLES);
      const firstStore = new DynamoAccountStore({
        client: firstClient,
        accountsTable: TABLES.accounts,
        auditTable: TABLES.audit,
      });
      await firstStore.commit({
        before: null,
        after: anAccount('t-disk', 'C-1'),
        audit: [aDraft('account created')],
      });
    } finally {
      firstClient.destroy();
      await first.stop();
    }

    const second = await startDynamoDbLocal({ dbPath });
    const secondClient = new DynamoDBClient(localDynamoDbClientConfig(second.endpoint));
    try {
      await createTables(secondClient, TABLES);
      const secondStore = new DynamoAccountStore({
        client: secondClient,
        accountsTable: TABLES.accounts,
        auditTable: TABLES.audit,
      });
      await expect(secondStore.getAccount('t-disk', 'C-1')).resolves.toMatchObject({
        accountId: 'C-1',
        version: 1,
      });
    } finally {
      secondClient.destroy();
      await second.stop();
    }
  });

  it('says how to install Java when it is missing', async () => {
    const emptyPath = await tempDir();
    const error = await startDynamoDbLocal({ env: { ...process.env, PATH: emptyPath } }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(JavaUnavailableError);
    expect((error as Error).message).toMatch(/Java 17\+ is required for DynamoDB Local.*not found/);
    expect((error as Error).message).toContain('apt-get install openjdk-17-jre-headless');
  });

  it('says Java is too old when it is older than 17', async () => {
    const dir = await tempDir();
    const fakeJava = join(dir, 'java');
    await writeFile(fakeJava, '#!/bin/sh\necho \'java version "1.8.0_392"\' >&2\n');
    await chmod(fakeJava, 0o755);

    const error = await startDynamoDbLocal({ javaBinary: fakeJava }).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(JavaUnavailableError);
    expect((error as Error).message).toMatch(
      /Java 17\+ is required.*is Java 8.*apt-get install openjdk-17-jre-headless/,
    );
  });
});
