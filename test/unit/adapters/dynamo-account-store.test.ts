import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  ProvisionedThroughputExceededException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandInput,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  DynamoAccountStore,
  UnprocessedKeysError,
} from '../../../shared/adapters/dynamo/dynamo-account-store';
import {
  InvalidAccountChangeError,
  PartialCommitError,
  TransactionTooLargeError,
} from '../../../shared/adapters/dynamo/errors';
import type { Account, Invoice } from '../../../shared/domain/account';
import { type AuditDraft, chainEntries, GENESIS_HASH } from '../../../shared/domain/audit';
import type { FileMarker } from '../../../shared/domain/ingest-file/file-marker';
import type { NoticeRecord } from '../../../shared/domain/notice';
import type { PaymentRecord } from '../../../shared/domain/reconcile';
import {
  type AccountChange,
  FileMarkerMissingError,
  VersionConflictError,
} from '../../../shared/ports/account-store';
import { DUE_INDEX, DUE_INDEX_SHARDS, keys } from '../../../shared/tables';

const ACCOUNTS = 'arrears-accounts';
const AUDIT = 'arrears-audit';
const NOW = '2026-03-01T10:00:00Z';

const ddb = mockClient(DynamoDBDocumentClient);
const store = new DynamoAccountStore({
  client: new DynamoDBClient({ region: 'local' }),
  accountsTable: ACCOUNTS,
  auditTable: AUDIT,
});

const anAccount = (overrides: Partial<Account> = {}): Account => ({
  tenantId: 'acme',
  accountId: 'C-1',
  contact: { name: 'Ada Lovelace', email: 'ada@example.com' },
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

const anInvoice = (overrides: Partial<Invoice> = {}): Invoice => ({
  tenantId: 'acme',
  accountId: 'C-1',
  invoiceId: 'INV-1',
  kind: 'invoice',
  currency: 'USD',
  amount: 12_000,
  openAmount: 12_000,
  issueDate: '2026-01-01',
  dueDate: '2026-01-31',
  status: 'open',
  source: { file: 'inbox/acme/invoices/jan.csv', line: 2 },
  digest: 'd1',
  updatedAt: NOW,
  ...overrides,
});

/** A page item as stored: the invoices by id, without the tenant, account and id the page gives them. */
const pageItem = (page: number, invoices: Invoice[]) => ({
  ...keys.invoicePage('acme', 'C-1', page),
  tenantId: 'acme',
  accountId: 'C-1',
  page,
  invoices: Object.fromEntries(
    invoices.map(({ tenantId: _t, accountId: _a, invoiceId, ...rest }) => [invoiceId, rest]),
  ),
  entity: 'invoice-page',
});

const aNotice = (overrides: Partial<NoticeRecord> = {}): NoticeRecord => ({
  tenantId: 'acme',
  accountId: 'C-1',
  cycleId: 'cycle-1',
  rung: 0,
  rungId: 'reminder',
  channel: 'email',
  to: 'ada@example.com',
  subject: 'Friendly reminder',
  status: 'intent',
  createdAt: NOW,
  ...overrides,
});

const aPayment = (overrides: Partial<PaymentRecord> = {}): PaymentRecord => ({
  tenantId: 'acme',
  accountId: 'C-1',
  paymentId: 'PAY-1',
  channel: 'bank',
  provider: 'camt053',
  amount: 10_000,
  currency: 'USD',
  receivedAt: NOW,
  allocations: [{ invoiceId: 'INV-1', amount: 10_000 }],
  unapplied: 0,
  appliedAt: NOW,
  ...overrides,
});

const aDraft = (action = 'invoice ingested'): AuditDraft => ({
  action,
  actor: { kind: 'system', id: 'ingest-invoices' },
  reason: 'invoice file received',
  at: NOW,
  data: { invoiceId: 'INV-1' },
});

const activeCycle = (executionStarted: boolean): NonNullable<Account['cycle']> => ({
  cycleId: 'cycle-1',
  cycleNumber: 1,
  startedAt: NOW,
  overdueSince: '2026-01-31',
  executionName: 'acme-C-1-1',
  executionStarted,
  rung: -1,
  contacts: [],
  status: 'active',
});

const cancelled = (codes: string[]) =>
  new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });

const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

const transactInputs = (): TransactWriteCommandInput[] =>
  ddb.commandCalls(TransactWriteCommand).map((call) => call.args[0].input);

const collect = async <T>(iterable: AsyncIterable<T>): Promise<T[]> => {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
};

beforeEach(() => {
  ddb.reset();
  // An existing account's invoice pages are read before its invoices are committed: none here.
  ddb.on(QueryCommand).resolves({ Items: [] });
});

describe('DynamoAccountStore.commit', () => {
  it('creates a new account, its invoices and its audit entry in one transaction', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    const after = anAccount();
    const invoice = anInvoice();
    const [entry] = chainEntries({ tenantId: 'acme', subject: 'C-1', seq: 0, hash: GENESIS_HASH }, [
      aDraft(),
    ]);

    const stored = await store.commit({ before: null, after, invoices: [invoice], audit: [aDraft()] });

    expect(stored).toEqual({ ...after, version: 1, auditSeq: 1, auditHead: entry!.hash });
    expect(transactInputs()).toEqual([
      {
        TransactItems: [
          {
            Put: {
              TableName: ACCOUNTS,
              Item: {
                ...stored,
                ...keys.account('acme', 'C-1'),
                ...keys.dueIndex('acme', 'C-1', '2026-01-31'),
                entity: 'account',
              },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          {
            Put: {
              TableName: ACCOUNTS,
              Item: pageItem(0, [invoice]),
            },
          },
          {
            Put: {
              TableName: AUDIT,
              Item: { ...entry, ...keys.audit('acme', 'C-1', 1), entity: 'audit' },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
        ],
      },
    ]);
  });

  it('conditions an update on the version read and continues the audit chain from the head', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    const before = anAccount({ version: 3, auditSeq: 7, auditHead: 'a'.repeat(64) });
    const after = { ...before, balances: { USD: 2_000 }, updatedAt: '2026-03-02T10:00:00Z' };
    const notice = aNotice();

    const stored = await store.commit({
      before,
      after,
      notices: [notice],
      audit: [aDraft('payment applied'), aDraft('notice recorded')],
    });

    const entries = chainEntries({ tenantId: 'acme', subject: 'C-1', seq: 7, hash: 'a'.repeat(64) }, [
      aDraft('payment applied'),
      aDraft('notice recorded'),
    ]);
    expect(stored).toMatchObject({ version: 4, auditSeq: 9, auditHead: entries[1]!.hash });
    const [input] = transactInputs();
    expect(input?.TransactItems?.[0]?.Put).toMatchObject({
      ConditionExpression: 'version = :expected',
      ExpressionAttributeValues: { ':expected': 3 },
    });
    expect(input?.TransactItems?.[1]).toEqual({
      Put: {
        TableName: ACCOUNTS,
        Item: { ...notice, ...keys.notice('acme', 'C-1', 'cycle-1', 0), entity: 'notice' },
      },
    });
    expect(input?.TransactItems?.slice(2).map((item) => item.Put?.Item)).toEqual([
      { ...entries[0], ...keys.audit('acme', 'C-1', 8), entity: 'audit' },
      { ...entries[1], ...keys.audit('acme', 'C-1', 9), entity: 'audit' },
    ]);
    expect(entries[0]?.prevHash).toBe('a'.repeat(64));
  });

  it.each([
    ['an active cycle whose ladder runs', { cycle: activeCycle(true) }, false],
    ['an active cycle whose ladder has not been started', { cycle: activeCycle(false) }, true],
    ['a cured cycle', { cycle: { ...activeCycle(true), status: 'cured' as const } }, true],
    ['nothing owed', { balances: {}, oldestDueDate: undefined, openInvoiceCount: 0 }, false],
    ['only a credit', { balances: { USD: -500 } }, false],
  ])('puts the account in the due index only when it is due (%s)', async (_case, overrides, indexed) => {
    ddb.on(TransactWriteCommand).resolves({});
    await store.commit({ before: null, after: anAccount(overrides), audit: [aDraft()] });
    const item = transactInputs()[0]?.TransactItems?.[0]?.Put?.Item ?? {};
    if (indexed) expect(item).toMatchObject(keys.dueIndex('acme', 'C-1', '2026-01-31'));
    expect(['duePk' in item, 'dueSk' in item]).toEqual([indexed, indexed]);
  });

  it('records the payments it applies, each only if it was never recorded', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    const before = anAccount({ version: 1, auditSeq: 1 });
    const invoice = anInvoice({ openAmount: 2_000 });

    await store.commit({
      before,
      after: { ...before, balances: { USD: 2_000 } },
      invoices: [invoice],
      payments: [aPayment()],
      audit: [aDraft('payment applied')],
    });

    const items = transactInputs()[0]?.TransactItems ?? [];
    expect(items.map((item) => item.Put?.Item?.entity)).toEqual([
      'account',
      'invoice-page',
      'payment',
      'audit',
    ]);
    expect(items[2]).toEqual({
      Put: {
        TableName: ACCOUNTS,
        Item: { ...aPayment(), ...keys.payment('acme', 'C-1', 'PAY-1'), entity: 'payment' },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    });
  });

  it('rewrites the page an existing invoice is on, keeping the others on it, and adds new ones to the last page', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    const other = anInvoice({ invoiceId: 'INV-2' });
    ddb.on(QueryCommand).resolves({ Items: [pageItem(0, [anInvoice(), other])] });
    const before = anAccount({ version: 3, auditSeq: 3 });
    const paid = anInvoice({ openAmount: 0, status: 'paid' });
    const added = anInvoice({ invoiceId: 'INV-3' });

    await store.commit({ before, after: before, invoices: [paid, added], audit: [aDraft()] });

    expect(ddb.commandCalls(QueryCommand)[0]?.args[0].input).toMatchObject({
      ExpressionAttributeValues: { ':pk': keys.account('acme', 'C-1').pk, ':prefix': keys.invoicePagePrefix },
      ConsistentRead: true,
    });
    const items = transactInputs()[0]?.TransactItems ?? [];
    expect(items[1]?.Put?.Item).toEqual(pageItem(0, [paid, other, added]));
    expect(items[1]?.Put?.ConditionExpression).toBeUndefined();
    expect(items[0]?.Put?.ConditionExpression).toBe('version = :expected');
  });

  it('plans on the pages read with the account at the same version, and reads them again otherwise', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    const other = anInvoice({ invoiceId: 'INV-2' });
    const account = anAccount({ version: 4, auditSeq: 4 });
    ddb.on(QueryCommand, { KeyConditionExpression: 'pk = :pk' }).resolves({
      Items: [{ ...account, ...keys.account('acme', 'C-1') }, pageItem(0, [anInvoice(), other])],
    });
    await store.getAccountsWithInvoices('acme', ['C-1']);
    const paid = anInvoice({ openAmount: 0, status: 'paid' });

    await store.commit({ before: account, after: account, invoices: [paid], audit: [aDraft()] });

    expect(ddb.commandCalls(QueryCommand)).toHaveLength(1);
    expect(transactInputs()[0]?.TransactItems?.[1]?.Put?.Item).toEqual(pageItem(0, [paid, other]));

    // Used once: the next commit (or one on another version) reads the pages.
    await store.commit({
      before: { ...account, version: 5 },
      after: account,
      invoices: [paid],
      audit: [aDraft()],
    });
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(2);
  });

  it('reads no pages for a new account or a change without invoices', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    await store.commit({ before: null, after: anAccount(), invoices: [anInvoice()], audit: [aDraft()] });
    await store.commit({ before: anAccount({ version: 1 }), after: anAccount(), audit: [aDraft()] });
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(0);
  });

  it.each([
    ['the account version', ['ConditionalCheckFailed', 'None', 'None']],
    [
      'the account version and the audit sequence',
      ['ConditionalCheckFailed', 'None', 'ConditionalCheckFailed'],
    ],
    ['a payment already recorded', ['None', 'ConditionalCheckFailed', 'None']],
  ])('turns a failed condition on %s into VersionConflictError', async (_case, codes) => {
    ddb.on(TransactWriteCommand).rejects(cancelled(codes));
    const change: AccountChange = {
      before: anAccount({ version: 2 }),
      after: anAccount(),
      payments: [aPayment()],
      audit: [aDraft()],
    };
    await expect(store.commit(change)).rejects.toThrow(VersionConflictError);
  });

  it('turns a failed version condition into VersionConflictError', async () => {
    ddb.on(TransactWriteCommand).rejects(cancelled(['ConditionalCheckFailed', 'None']));
    await expect(
      store.commit({ before: anAccount({ version: 2 }), after: anAccount(), audit: [aDraft()] }),
    ).rejects.toThrow(VersionConflictError);
  });

  it('passes other cancellations on unchanged, such as an audit sequence number already taken', async () => {
    const error = cancelled(['None', 'ConditionalCheckFailed']);
    ddb.on(TransactWriteCommand).rejects(error);
    await expect(
      store.commit({ before: anAccount({ version: 2 }), after: anAccount(), audit: [aDraft()] }),
    ).rejects.toBe(error);
  });

  it('refuses a change without an audit entry before writing anything', async () => {
    await expect(store.commit({ before: null, after: anAccount(), audit: [] })).rejects.toThrow(
      InvalidAccountChangeError,
    );
    expect(transactInputs()).toEqual([]);
  });

  it('refuses invoices of another account in the change', async () => {
    await expect(
      store.commit({
        before: null,
        after: anAccount(),
        invoices: [anInvoice({ accountId: 'C-2' })],
        audit: [aDraft()],
      }),
    ).rejects.toThrow(InvalidAccountChangeError);
    expect(transactInputs()).toEqual([]);
  });

  it('refuses a change that writes one invoice twice', async () => {
    await expect(
      store.commit({
        before: null,
        after: anAccount(),
        invoices: [anInvoice(), anInvoice()],
        audit: [aDraft()],
      }),
    ).rejects.toThrow(/invoice INV-1 twice/);
    expect(transactInputs()).toEqual([]);
  });

  it('refuses a change with more actions than one transaction takes', async () => {
    const notices = Array.from({ length: 99 }, (_, rung) => aNotice({ rung }));
    await expect(
      store.commit({ before: null, after: anAccount(), notices, audit: [aDraft()] }),
    ).rejects.toThrow(TransactionTooLargeError);
    expect(transactInputs()).toEqual([]);
  });

  it('puts invoices on pages: 20 small invoices on one page, big ones on pages of their own', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    const small = Array.from({ length: 20 }, (_, i) => anInvoice({ invoiceId: `INV-${i}` }));
    await store.commit({ before: null, after: anAccount(), invoices: small, audit: [aDraft()] });
    const [smallTx] = transactInputs();
    expect(smallTx?.TransactItems?.map((item) => item.Put?.Item?.sk)).toEqual([
      'ACCOUNT',
      keys.invoicePage('acme', 'C-1', 0).sk,
      keys.audit('acme', 'C-1', 1).sk,
    ]);
    expect(Object.keys(smallTx?.TransactItems?.[1]?.Put?.Item?.invoices ?? {})).toHaveLength(20);

    ddb.reset();
    ddb.on(TransactWriteCommand).resolves({});
    const big = Array.from({ length: 3 }, (_, i) =>
      anInvoice({ invoiceId: `INV-${i}`, reference: 'R'.repeat(20_000) }),
    );
    await store.commit({ before: null, after: anAccount(), invoices: big, audit: [aDraft()] });
    expect(transactInputs()[0]?.TransactItems?.map((item) => item.Put?.Item?.sk)).toEqual([
      'ACCOUNT',
      keys.invoicePage('acme', 'C-1', 0).sk,
      keys.invoicePage('acme', 'C-1', 1).sk,
      keys.invoicePage('acme', 'C-1', 2).sk,
      keys.audit('acme', 'C-1', 1).sk,
    ]);
  });

  it('refuses a change of more bytes than one transaction takes, naming them', async () => {
    const invoices = Array.from({ length: 60 }, (_, i) =>
      anInvoice({ invoiceId: `INV-${i}`, reference: 'R'.repeat(60_000) }),
    );
    await expect(
      store.commit({ before: null, after: anAccount(), invoices, audit: [aDraft()] }),
    ).rejects.toThrow(/about \d+ bytes.*at most 4 MB/);
    expect(transactInputs()).toEqual([]);
  });
});

describe('DynamoAccountStore.commitMany', () => {
  const changeOf = (accountId: string, version = 0): AccountChange => ({
    before: version === 0 ? null : anAccount({ accountId, version }),
    after: anAccount({ accountId }),
    invoices: [anInvoice({ accountId, invoiceId: `INV-${accountId}` })],
    audit: [aDraft()],
  });

  it('packs changes into as few transactions as 100 actions allow, never splitting one', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    const changes = Array.from({ length: 60 }, (_, i) => changeOf(`C-${i}`));

    const result = await store.commitMany(changes);

    expect(transactInputs().map((input) => input.TransactItems?.length)).toEqual([99, 81]);
    expect(result.conflicts).toEqual([]);
    expect(result.committed.map((account) => account.accountId)).toEqual(
      changes.map((c) => c.after.accountId),
    );
    expect(result.committed.every((account) => account.version === 1)).toBe(true);
  });

  it('puts two changes of one account into consecutive transactions, in order', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    const first = changeOf('C-1');
    const second = changeOf('C-1', 1);

    await store.commitMany([first, changeOf('C-2'), second]);

    const accountsPerTransaction = transactInputs().map((input) =>
      input.TransactItems?.filter((item) => item.Put?.Item?.entity === 'account').map(
        (item) => item.Put?.Item?.accountId,
      ),
    );
    expect(accountsPerTransaction).toEqual([['C-1', 'C-2'], ['C-1']]);
  });

  it('places a later change of an account on the pages its earlier change in the same call leaves', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    const first = changeOf('C-1');
    const second: AccountChange = {
      ...changeOf('C-1', 1),
      invoices: [anInvoice({ invoiceId: 'INV-9' })],
    };

    await store.commitMany([first, second]);

    expect(ddb.commandCalls(QueryCommand)).toHaveLength(0);
    const pages = transactInputs().map((input) => input.TransactItems?.[1]?.Put?.Item);
    expect(pages[1]).toEqual(pageItem(0, [...first.invoices!, anInvoice({ invoiceId: 'INV-9' })]));
  });

  it('reports the change whose condition failed and commits the others of its transaction', async () => {
    const changes = [changeOf('C-1'), changeOf('C-2', 5), changeOf('C-3')];
    ddb
      .on(TransactWriteCommand)
      .rejectsOnce(
        cancelled(['None', 'None', 'None', 'ConditionalCheckFailed', 'None', 'None', 'None', 'None', 'None']),
      )
      .resolves({});

    const result = await store.commitMany(changes);

    expect(result.conflicts).toEqual([changes[1]]);
    expect(result.committed.map((account) => account.accountId)).toEqual(['C-1', 'C-3']);
    const [firstTry, retry] = transactInputs();
    expect(firstTry?.TransactItems).toHaveLength(9);
    expect(retry?.TransactItems?.map((item) => item.Put?.Item?.accountId ?? item.Put?.Item?.subject)).toEqual(
      ['C-1', 'C-1', 'C-1', 'C-3', 'C-3', 'C-3'],
    );
  });

  it('stops when only an audit condition failed, since reading again cannot repair a chain', async () => {
    const changes = [changeOf('C-1'), changeOf('C-2', 5)];
    const broken = cancelled(['None', 'None', 'None', 'None', 'None', 'ConditionalCheckFailed']);
    ddb.on(TransactWriteCommand).rejects(broken);

    const error = await store.commitMany(changes).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(PartialCommitError);
    expect((error as PartialCommitError).uncommitted).toEqual(changes);
    expect(transactInputs()).toHaveLength(1);
  });

  it('reports what was committed when a later transaction fails for another reason', async () => {
    const changes = Array.from({ length: 40 }, (_, i) => changeOf(`C-${i}`));
    const throttled = new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} });
    ddb.on(TransactWriteCommand).resolvesOnce({}).rejects(throttled);

    const error = await store.commitMany(changes).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(PartialCommitError);
    const partial = error as PartialCommitError;
    expect(partial.committed).toHaveLength(33);
    expect(partial.uncommitted).toEqual(changes.slice(33));
    expect(partial.cause).toBe(throttled);
  });

  const storeWith = (writeConcurrency: number) =>
    new DynamoAccountStore({
      client: new DynamoDBClient({ region: 'local' }),
      accountsTable: ACCOUNTS,
      auditTable: AUDIT,
      writeConcurrency,
    });
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  /** Transactions that take 5 ms each; `most()` is the most that were in flight at once. */
  const slowTransactions = () => {
    let inFlight = 0;
    let most = 0;
    ddb.on(TransactWriteCommand).callsFake(async () => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await sleep(5);
      inFlight -= 1;
      return {};
    });
    return { most: () => most };
  };
  const accountsIn = (input: TransactWriteCommandInput) =>
    (input.TransactItems ?? [])
      .filter((item) => item.Put?.Item?.entity === 'account')
      .map((item) => String(item.Put?.Item?.accountId))
      .join(',');

  it('keeps up to writeConcurrency transactions in flight and reports every change in order', async () => {
    const inFlight = slowTransactions();
    const changes = Array.from({ length: 200 }, (_, i) => changeOf(`C-${i}`));

    const result = await storeWith(3).commitMany(changes);

    expect(transactInputs()).toHaveLength(7);
    expect(inFlight.most()).toBe(3);
    expect(result.committed.map((account) => account.accountId)).toEqual(
      changes.map((change) => change.after.accountId),
    );
  });

  it('shares writeConcurrency between concurrent calls: the store never has more transactions in flight', async () => {
    const inFlight = slowTransactions();
    const shared = storeWith(2);
    const calls = [0, 1, 2].map((call) =>
      shared.commitMany(Array.from({ length: 100 }, (_, i) => changeOf(`C-${call}-${i}`))),
    );
    const single = shared.commit(changeOf('C-single'));

    const results = await Promise.all(calls);
    await single;

    expect(transactInputs()).toHaveLength(3 * 4 + 1);
    expect(inFlight.most()).toBe(2);
    expect(results.map((result) => result.committed.length)).toEqual([100, 100, 100]);
  });

  it("starts the transaction with an account's later change only once the one with its earlier change has ended", async () => {
    const events: string[] = [];
    ddb.on(TransactWriteCommand).callsFake(async (input: TransactWriteCommandInput) => {
      events.push(`start ${accountsIn(input)}`);
      await sleep(input.TransactItems!.length > 3 ? 20 : 1);
      events.push(`end ${accountsIn(input)}`);
      return {};
    });

    await storeWith(4).commitMany([changeOf('C-1'), changeOf('C-2'), changeOf('C-1', 1), changeOf('C-3')]);

    expect(events).toEqual(['start C-1,C-2,C-3', 'end C-1,C-2,C-3', 'start C-1', 'end C-1']);
  });

  it('sends a transaction again when DynamoDB cancelled it for throttling or a conflicting transaction', async () => {
    const changes = [changeOf('C-1'), changeOf('C-2')];
    ddb
      .on(TransactWriteCommand)
      .rejectsOnce(cancelled(['None', 'ThrottlingError', 'None', 'None', 'None', 'None']))
      .rejectsOnce(cancelled(['None', 'None', 'None', 'TransactionConflict', 'None', 'None']))
      .resolves({});

    const result = await store.commitMany(changes);

    expect(transactInputs()).toHaveLength(3);
    expect(transactInputs()[2]?.TransactItems).toHaveLength(6);
    expect(result.committed.map((account) => account.accountId)).toEqual(['C-1', 'C-2']);
    expect(result.conflicts).toEqual([]);
  });

  it('gives up on a transaction that stays throttled, reporting its changes as not applied', async () => {
    const patient = new DynamoAccountStore({
      client: new DynamoDBClient({ region: 'local' }),
      accountsTable: ACCOUNTS,
      auditTable: AUDIT,
      transactionAttempts: 3,
    });
    const changes = [changeOf('C-1')];
    ddb.on(TransactWriteCommand).rejects(cancelled(['ThrottlingError', 'None', 'None']));

    const error = await patient.commitMany(changes).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(PartialCommitError);
    expect((error as PartialCommitError).uncommitted).toEqual(changes);
    expect(transactInputs()).toHaveLength(3);
  });

  it('starts no transaction after one failed, and waits for those in flight before reporting', async () => {
    const changes = Array.from({ length: 100 }, (_, i) => changeOf(`C-${i}`));
    const throttled = new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} });
    ddb
      .on(TransactWriteCommand)
      .rejectsOnce(throttled)
      .callsFake(async () => {
        await sleep(10);
        return {};
      });

    const error = await storeWith(2)
      .commitMany(changes)
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(PartialCommitError);
    const partial = error as PartialCommitError;
    expect(transactInputs()).toHaveLength(2);
    expect(partial.committed.map((account) => account.accountId)).toEqual(
      changes.slice(33, 66).map((change) => change.after.accountId),
    );
    expect(partial.uncommitted).toEqual([...changes.slice(0, 33), ...changes.slice(66)]);
    expect(partial.cause).toBe(throttled);
  });
});

describe('DynamoAccountStore reads', () => {
  const accountItemOf = (accountId: string) => ({
    ...anAccount({ accountId }),
    ...keys.account('acme', accountId),
    ...keys.dueIndex('acme', accountId, '2026-01-31'),
    entity: 'account',
  });
  const keysAsked = (input: BatchGetCommandInput) =>
    (input.RequestItems?.[ACCOUNTS]?.Keys ?? []) as { pk: string; sk: string }[];

  it('reads many accounts with consistent BatchGetItem requests of at most 100 keys, leaving out those that do not exist', async () => {
    const existing = new Set(['C-7', 'C-120', 'C-149']);
    ddb.on(BatchGetCommand).callsFake(async (input: BatchGetCommandInput) => ({
      Responses: {
        [ACCOUNTS]: keysAsked(input)
          .map((key) => key.pk.split('#A#')[1]!)
          .filter((accountId) => existing.has(accountId))
          .reverse()
          .map(accountItemOf),
      },
    }));
    const ids = Array.from({ length: 150 }, (_, i) => `C-${i}`);

    const found = await store.getAccounts('acme', [...ids, 'C-7']);

    expect([...found.keys()]).toEqual(['C-7', 'C-120', 'C-149']);
    expect(found.get('C-120')).toEqual(anAccount({ accountId: 'C-120' }));
    const inputs = ddb.commandCalls(BatchGetCommand).map((call) => call.args[0].input);
    expect(inputs.map((input) => keysAsked(input).length)).toEqual([100, 50]);
    expect(inputs[0]?.RequestItems?.[ACCOUNTS]).toMatchObject({ ConsistentRead: true });
    expect(keysAsked(inputs[1]!)[0]).toEqual(keys.account('acme', 'C-100'));
  });

  it('asks again for the keys DynamoDB left unprocessed', async () => {
    ddb
      .on(BatchGetCommand)
      .resolvesOnce({
        Responses: { [ACCOUNTS]: [accountItemOf('C-1')] },
        UnprocessedKeys: { [ACCOUNTS]: { Keys: [keys.account('acme', 'C-2')], ConsistentRead: true } },
      })
      .resolves({ Responses: { [ACCOUNTS]: [accountItemOf('C-2')] } });

    const found = await store.getAccounts('acme', ['C-1', 'C-2']);

    expect([...found.keys()]).toEqual(['C-1', 'C-2']);
    const retry = ddb.commandCalls(BatchGetCommand)[1]?.args[0].input;
    expect(keysAsked(retry!)).toEqual([keys.account('acme', 'C-2')]);
  });

  it('gives up with UnprocessedKeysError when keys stay unprocessed', async () => {
    const stubborn = new DynamoAccountStore({
      client: new DynamoDBClient({ region: 'local' }),
      accountsTable: ACCOUNTS,
      auditTable: AUDIT,
      batchGetAttempts: 2,
    });
    ddb.on(BatchGetCommand).resolves({
      UnprocessedKeys: { [ACCOUNTS]: { Keys: [keys.account('acme', 'C-1')], ConsistentRead: true } },
    });

    await expect(stubborn.getAccounts('acme', ['C-1'])).rejects.toThrow(UnprocessedKeysError);
    expect(ddb.commandCalls(BatchGetCommand)).toHaveLength(2);
  });

  it('sends no request for no accounts', async () => {
    await expect(store.getAccounts('acme', [])).resolves.toEqual(new Map());
    expect(ddb.commandCalls(BatchGetCommand)).toHaveLength(0);
  });

  it('reads an account consistently and strips keys and index attributes', async () => {
    const account = anAccount();
    ddb.on(GetCommand).resolves({
      Item: {
        ...account,
        ...keys.account('acme', 'C-1'),
        ...keys.dueIndex('acme', 'C-1', '2026-01-31'),
        entity: 'account',
      },
    });

    await expect(store.getAccount('acme', 'C-1')).resolves.toEqual(account);
    expect(ddb.commandCalls(GetCommand)[0]?.args[0].input).toEqual({
      TableName: ACCOUNTS,
      Key: keys.account('acme', 'C-1'),
      ConsistentRead: true,
    });
  });

  it('refuses an item that does not parse as an account', async () => {
    ddb.on(GetCommand).resolves({ Item: { ...keys.account('acme', 'C-1'), accountId: 'C-1' } });
    await expect(store.getAccount('acme', 'C-1')).rejects.toThrow();
  });

  it('queries every due-index shard below the date and reads account ids back from the sort key', async () => {
    const odd = 'Müller & Sons / 42';
    ddb
      .on(QueryCommand)
      .resolves({ Items: [] })
      .on(QueryCommand, {
        ExpressionAttributeValues: {
          ':partition': keys.dueIndexPartitions('acme')[0],
          ':before': '2026-03-01',
        },
      })
      .resolvesOnce({ Items: [{ dueSk: '2026-01-31#C-1' }], LastEvaluatedKey: { dueSk: '2026-01-31#C-1' } })
      .resolvesOnce({ Items: [{ dueSk: `2026-02-10#${odd}` }] });

    const due = await collect(store.listDueAccounts('acme', '2026-03-01'));

    expect(due).toEqual([
      { accountId: 'C-1', oldestDueDate: '2026-01-31' },
      { accountId: odd, oldestDueDate: '2026-02-10' },
    ]);
    const inputs = ddb.commandCalls(QueryCommand).map((call) => call.args[0].input);
    expect(inputs).toHaveLength(DUE_INDEX_SHARDS + 1);
    expect(inputs[0]).toEqual({
      TableName: ACCOUNTS,
      IndexName: DUE_INDEX,
      KeyConditionExpression: 'duePk = :partition AND dueSk < :before',
      ExpressionAttributeValues: {
        ':partition': keys.dueIndexPartitions('acme')[0],
        ':before': '2026-03-01',
      },
    });
    expect(inputs[1]?.ExclusiveStartKey).toEqual({ dueSk: '2026-01-31#C-1' });
    expect(new Set(inputs.map((input) => input.ExpressionAttributeValues?.[':partition']))).toEqual(
      new Set(keys.dueIndexPartitions('acme')),
    );
  });

  it('lists a tenant with a filtered, paginated scan', async () => {
    ddb
      .on(ScanCommand)
      .resolvesOnce({
        Items: [{ ...anAccount(), ...keys.account('acme', 'C-1') }],
        LastEvaluatedKey: { pk: 'x', sk: 'y' },
      })
      .resolvesOnce({ Items: [{ ...anAccount({ accountId: 'C-2' }), ...keys.account('acme', 'C-2') }] });

    const accounts = await collect(store.listAccounts('acme'));

    expect(accounts.map((account) => account.accountId)).toEqual(['C-1', 'C-2']);
    const inputs = ddb.commandCalls(ScanCommand).map((call) => call.args[0].input);
    expect(inputs[0]).toEqual({
      TableName: ACCOUNTS,
      FilterExpression: 'begins_with(pk, :prefix) AND sk = :sk',
      ExpressionAttributeValues: {
        ':prefix': keys.account('acme', '').pk,
        ':sk': keys.account('acme', '').sk,
      },
    });
    expect(inputs[1]?.ExclusiveStartKey).toEqual({ pk: 'x', sk: 'y' });
  });

  it('reads invoices by prefix of the account partition, consistently', async () => {
    ddb.on(QueryCommand).resolves({ Items: [pageItem(0, [anInvoice()])] });

    await expect(store.getInvoices('acme', 'C-1')).resolves.toEqual([anInvoice()]);
    expect(ddb.commandCalls(QueryCommand)[0]?.args[0].input).toEqual({
      TableName: ACCOUNTS,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.account('acme', 'C-1').pk, ':prefix': keys.invoicePagePrefix },
      ConsistentRead: true,
    });
  });

  it('reads accounts with their invoices, leaving out accounts that do not exist', async () => {
    ddb
      .on(QueryCommand)
      .resolves({ Items: [] })
      .on(QueryCommand, { ExpressionAttributeValues: { ':pk': keys.account('acme', 'C-1').pk } })
      .resolves({
        Items: [
          { ...anAccount(), ...keys.account('acme', 'C-1') },
          pageItem(0, [anInvoice()]),
          { ...aNotice(), ...keys.notice('acme', 'C-1', 'cycle-1', 0) },
        ],
      });

    const found = await store.getAccountsWithInvoices('acme', ['C-1', 'C-404', 'C-1']);

    expect([...found.keys()]).toEqual(['C-1']);
    expect(found.get('C-1')).toEqual({ account: anAccount(), invoices: [anInvoice()] });
    expect(ddb.commandCalls(QueryCommand).map((call) => call.args[0].input)).toEqual([
      {
        TableName: ACCOUNTS,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.account('acme', 'C-1').pk },
        ConsistentRead: true,
      },
      {
        TableName: ACCOUNTS,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.account('acme', 'C-404').pk },
        ConsistentRead: true,
      },
    ]);
  });

  it('reads an audit trail in sequence order across pages', async () => {
    const entries = chainEntries({ tenantId: 'acme', subject: 'C-1', seq: 0, hash: GENESIS_HASH }, [
      aDraft('a'),
      aDraft('b'),
    ]);
    ddb
      .on(QueryCommand)
      .resolvesOnce({
        Items: [{ ...entries[0], ...keys.audit('acme', 'C-1', 1) }],
        LastEvaluatedKey: { pk: 'p', sk: '1' },
      })
      .resolvesOnce({ Items: [{ ...entries[1], ...keys.audit('acme', 'C-1', 2) }] });

    await expect(store.auditTrail('acme', 'C-1')).resolves.toEqual(entries);
    expect(ddb.commandCalls(QueryCommand)[0]?.args[0].input).toEqual({
      TableName: AUDIT,
      KeyConditionExpression: 'pk = :subject',
      ExpressionAttributeValues: { ':subject': keys.auditSubject('acme', 'C-1') },
      ScanIndexForward: true,
      ConsistentRead: true,
    });
  });
});

describe('DynamoAccountStore notice intents and file markers', () => {
  it('records a notice intent only when none exists', async () => {
    ddb.on(PutCommand).resolvesOnce({}).rejectsOnce(conditionFailed());

    await expect(store.recordNoticeIntent(aNotice())).resolves.toBe(true);
    await expect(store.recordNoticeIntent(aNotice())).resolves.toBe(false);
    expect(ddb.commandCalls(PutCommand)[0]?.args[0].input).toEqual({
      TableName: ACCOUNTS,
      Item: { ...aNotice(), ...keys.notice('acme', 'C-1', 'cycle-1', 0), entity: 'notice' },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
  });

  it('passes on errors other than a failed condition', async () => {
    ddb
      .on(PutCommand)
      .rejects(new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} }));
    await expect(store.recordNoticeIntent(aNotice())).rejects.toThrow('slow down');
  });

  const marker: FileMarker = {
    tenantId: 'acme',
    sha256: 'f'.repeat(64),
    key: 'inbox/acme/invoices/jan.csv',
    status: 'processing',
    firstSeenAt: NOW,
  };

  it('claims a file marker with a conditional put', async () => {
    ddb.on(PutCommand).resolvesOnce({}).rejectsOnce(conditionFailed());

    await expect(store.putFileMarker(marker)).resolves.toBe(true);
    await expect(store.putFileMarker(marker)).resolves.toBe(false);
    expect(ddb.commandCalls(PutCommand)[0]?.args[0].input).toEqual({
      TableName: ACCOUNTS,
      Item: { ...marker, ...keys.file('acme', 'f'.repeat(64)), entity: 'file' },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
  });

  it('completes a file marker that exists', async () => {
    const completion = {
      status: 'done' as const,
      completedAt: '2026-03-01T10:05:00Z',
      receiptKey: 'receipts/jan.json',
    };
    ddb
      .on(UpdateCommand)
      .resolves({ Attributes: { ...marker, ...completion, ...keys.file('acme', 'f'.repeat(64)) } });

    await expect(store.completeFileMarker('acme', 'f'.repeat(64), completion)).resolves.toEqual({
      ...marker,
      ...completion,
    });
    expect(ddb.commandCalls(UpdateCommand)[0]?.args[0].input).toEqual({
      TableName: ACCOUNTS,
      Key: keys.file('acme', 'f'.repeat(64)),
      UpdateExpression: 'SET #status = :status, completedAt = :completedAt, receiptKey = :receiptKey',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':status': 'done',
        ':completedAt': '2026-03-01T10:05:00Z',
        ':receiptKey': 'receipts/jan.json',
      },
      ReturnValues: 'ALL_NEW',
    });
  });

  it('refuses to complete a file marker that was never claimed', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed());
    await expect(
      store.completeFileMarker('acme', 'f'.repeat(64), { status: 'rejected', completedAt: NOW }),
    ).rejects.toThrow(FileMarkerMissingError);
  });
});
