import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandInput,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  ScanCommand,
  type ScanCommandInput,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Account, Invoice } from '../../domain/account';
import { type AuditEntry, chainEntries, GENESIS_HASH } from '../../domain/audit';
import { type FileMarker, FileMarkerCompletion } from '../../domain/ingest-file/file-marker';
import type { NoticeRecord } from '../../domain/notice';
import {
  type AccountChange,
  type AccountStore,
  type AccountWithInvoices,
  type CommitManyResult,
  type DueAccount,
  FileMarkerMissingError,
  VersionConflictError,
} from '../../ports/account-store';
import { keys } from '../../tables';
import {
  InvalidAccountChangeError,
  MAX_TRANSACTION_ACTIONS,
  MAX_TRANSACTION_BYTES,
  PartialCommitError,
  TransactionTooLargeError,
} from './errors';
import { type InvoicePage, invoicePageFromItem, invoicesOfPages, placeInvoices } from './invoice-pages';
import {
  accountFromItem,
  accountItem,
  attr,
  auditEntryFromItem,
  auditItem,
  DUE_INDEX_NAME,
  fileMarkerFromItem,
  fileMarkerItem,
  type Item,
  invoicePageItem,
  noticeFromItem,
  noticeItem,
  parseDueSortKey,
  paymentItem,
} from './item-mapping';

export interface DynamoAccountStoreOptions {
  /** A configured client (region, endpoint, credentials); the store never builds its own. */
  client: DynamoDBClient;
  accountsTable: string;
  auditTable: string;
  /**
   * How many reads run at once: account partitions in {@link DynamoAccountStore.getAccountsWithInvoices},
   * BatchGetItem requests in {@link DynamoAccountStore.getAccounts} (default 8).
   */
  readConcurrency?: number;
  /**
   * Most transactions in flight at once, across every call on this store (default 12, so
   * the ingest's 3 units of accounts applied side by side can keep 4 each in flight). A store
   * is shared by everything one function instance does, so this bounds what it asks of the table
   * however many batches run side by side. DynamoDB runs transactions on different items in
   * parallel; DynamoDB Local runs them one after another, so the local runtime uses 2
   * (`DYNAMODB_LOCAL_TRANSACTIONS_IN_FLIGHT` in infra/local/servers/dynamodb-local.ts says why).
   */
  writeConcurrency?: number;
  /**
   * Attempts of a transaction of {@link DynamoAccountStore.commitMany} that DynamoDB cancels for
   * throttling or a conflicting transaction in progress, with exponential backoff from 50 ms up
   * to 5 s (default 8). The SDK retries throttled requests, but never a cancelled transaction.
   */
  transactionAttempts?: number;
  /**
   * Attempts of a BatchGetItem while DynamoDB returns keys unprocessed (throttling), with
   * exponential backoff from 50 ms (default 8).
   */
  batchGetAttempts?: number;
}

/** Accounts whose invoice pages the store keeps from a read for the commit that follows it. */
const PAGES_SEEN_LIMIT = 4096;

/** DynamoDB's limit of keys in one BatchGetItem. */
export const MAX_BATCH_GET_KEYS = 100;

/** BatchGetItem kept returning keys unprocessed: the table is throttled beyond the retries allowed. */
export class UnprocessedKeysError extends Error {
  override readonly name = 'UnprocessedKeysError';
}

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** One change turned into transaction actions; the account's Put is always the first action. */
interface CommitPlan {
  change: AccountChange;
  actions: TransactItem[];
  stored: Account;
  /** The account's invoice pages once this change is committed (for a later change of it in the same call). */
  pagesAfter: readonly InvoicePage[];
  /** Estimated bytes of the actions, against DynamoDB's 4 MB per transaction. */
  bytes: number;
  /**
   * Positions (within `actions`) whose failed condition means "changed since read": the account
   * and the payments. A failed audit condition means a broken chain instead, never retried.
   */
  conflictPositions: ReadonlySet<number>;
}

/**
 * {@link AccountStore} on two DynamoDB tables: `accounts` (single-table: account, invoice, notice
 * and file-marker items, partitioned per account) and `audit` (one item per entry, partitioned
 * per subject). Keys come from `shared/tables.ts`.
 */
export class DynamoAccountStore implements AccountStore {
  readonly #doc: DynamoDBDocumentClient;
  readonly #accountsTable: string;
  readonly #auditTable: string;
  readonly #readConcurrency: number;
  readonly #transactionSlots: Slots;
  readonly #transactionAttempts: number;
  readonly #batchGetAttempts: number;
  /**
   * Invoice pages read with their account by getAccountsWithInvoices, by account, with the
   * version the account had: a commit planned on that version uses them instead of reading the
   * pages again. Safe even if a commit slipped in between the account and its pages in that
   * Query: the pages can then only be newer than the version, whose condition then fails.
   */
  readonly #pagesSeen = new Map<string, { version: number; pages: readonly InvoicePage[] }>();

  constructor(options: DynamoAccountStoreOptions) {
    this.#doc = DynamoDBDocumentClient.from(options.client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    this.#accountsTable = options.accountsTable;
    this.#auditTable = options.auditTable;
    this.#readConcurrency = options.readConcurrency ?? 8;
    this.#transactionSlots = new Slots(Math.max(1, options.writeConcurrency ?? 12));
    this.#transactionAttempts = Math.max(1, options.transactionAttempts ?? 8);
    this.#batchGetAttempts = Math.max(1, options.batchGetAttempts ?? 8);
  }

  async getAccount(tenantId: string, accountId: string): Promise<Account | undefined> {
    const { Item } = await this.#doc.send(
      new GetCommand({
        TableName: this.#accountsTable,
        Key: keys.account(tenantId, accountId),
        ConsistentRead: true,
      }),
    );
    return Item ? accountFromItem(Item) : undefined;
  }

  /**
   * Reads accounts by key with consistent BatchGetItem requests of up to 100 keys, several at
   * once; keys DynamoDB leaves unprocessed are asked for again after a backoff.
   * @throws UnprocessedKeysError when keys stay unprocessed after all attempts.
   */
  async getAccounts(tenantId: string, accountIds: readonly string[]): Promise<Map<string, Account>> {
    const ids = [...new Set(accountIds)];
    const chunks: string[][] = [];
    for (let i = 0; i < ids.length; i += MAX_BATCH_GET_KEYS)
      chunks.push(ids.slice(i, i + MAX_BATCH_GET_KEYS));
    const read: Account[] = [];
    await forEachConcurrently(chunks, this.#readConcurrency, async (chunk) => {
      for (const item of await this.#batchGet(chunk.map((accountId) => keys.account(tenantId, accountId)))) {
        read.push(accountFromItem(item));
      }
    });
    // In the order asked, whatever order the responses came in.
    const byId = new Map(read.map((account) => [account.accountId, account]));
    const result = new Map<string, Account>();
    for (const accountId of ids) {
      const account = byId.get(accountId);
      if (account) result.set(accountId, account);
    }
    return result;
  }

  async getInvoices(tenantId: string, accountId: string): Promise<Invoice[]> {
    return invoicesOfPages(await this.#readInvoicePages(tenantId, accountId));
  }

  async getNotice(
    tenantId: string,
    accountId: string,
    cycleId: string,
    rung: number,
  ): Promise<NoticeRecord | undefined> {
    const { Item } = await this.#doc.send(
      new GetCommand({
        TableName: this.#accountsTable,
        Key: keys.notice(tenantId, accountId, cycleId, rung),
        ConsistentRead: true,
      }),
    );
    return Item ? noticeFromItem(Item) : undefined;
  }

  /** Consistent, because compliance counts the contacts already made from these records. */
  async listNotices(tenantId: string, accountId: string): Promise<NoticeRecord[]> {
    const items = await this.#queryPrefix(tenantId, accountId, keys.noticePrefix);
    return items.map(noticeFromItem);
  }

  /**
   * Every account of a tenant. The tenant is part of every partition key, so this is a Scan of
   * the whole table with a filter: fine for small portfolios, the CLI and reports, never for a
   * hot path (the aging scan uses {@link listDueAccounts}).
   */
  async *listAccounts(tenantId: string): AsyncIterable<Account> {
    const { pk, sk } = keys.account(tenantId, '');
    const input: ScanCommandInput = {
      TableName: this.#accountsTable,
      FilterExpression: `begins_with(${attr.pk}, :prefix) AND ${attr.sk} = :sk`,
      ExpressionAttributeValues: { ':prefix': pk, ':sk': sk },
    };
    let startKey: ScanCommandInput['ExclusiveStartKey'];
    do {
      const page = await this.#doc.send(
        new ScanCommand(startKey ? { ...input, ExclusiveStartKey: startKey } : input),
      );
      for (const item of page.Items ?? []) yield accountFromItem(item);
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }

  /**
   * Reads every shard of the sparse due index. The index is eventually consistent: an account
   * changed a moment ago may still show; callers re-read the account before acting on it.
   */
  async *listDueAccounts(tenantId: string, beforeDate: string): AsyncIterable<DueAccount> {
    for (const partition of keys.dueIndexPartitions(tenantId)) {
      // `{date}#{account}` sorts below `beforeDate` exactly when date < beforeDate.
      const input: QueryCommandInput = {
        TableName: this.#accountsTable,
        IndexName: DUE_INDEX_NAME,
        KeyConditionExpression: `${attr.duePk} = :partition AND ${attr.dueSk} < :before`,
        ExpressionAttributeValues: { ':partition': partition, ':before': beforeDate },
      };
      for await (const item of this.#pages(input)) {
        const dueSk = item[attr.dueSk];
        if (typeof dueSk !== 'string') throw new Error(`due-index item without ${attr.dueSk}`);
        yield parseDueSortKey(dueSk);
      }
    }
  }

  /**
   * Commits one account's change in one TransactWriteItems:
   * 1. chains the audit drafts onto the account's audit head;
   * 2. puts the account, conditioned on the version it was read at (or on not existing);
   * 3. puts the invoice pages the invoices land on (an existing account's pages are read first,
   *    see invoice-pages.ts), the notices, and the payments applied (each only if not recorded yet);
   * 4. puts each audit entry into the audit table, conditioned on its sequence number being free.
   * @throws VersionConflictError when the account changed since it was read.
   * @throws InvalidAccountChangeError, TransactionTooLargeError before anything is written.
   */
  async commit(change: AccountChange): Promise<Account> {
    const plan = this.#plan(change, await this.#pagesBefore(change));
    const release = this.#transactionSlots.take() ?? (await this.#transactionSlots.acquire());
    try {
      await this.#doc.send(new TransactWriteCommand({ TransactItems: plan.actions }));
    } catch (error) {
      if (failedPlans(error, [plan])?.has(plan)) {
        throw new VersionConflictError(change.after.tenantId, change.after.accountId);
      }
      throw error;
    } finally {
      release();
    }
    return plan.stored;
  }

  /**
   * Commits changes of many accounts with as few TransactWriteItems as the 100-action limit
   * allows (a change is never split, an account appears at most once per transaction, and two
   * changes of one account commit in the order given). Transactions take the store's slots
   * (`writeConcurrency`, shared with concurrent calls); a transaction holding a later change of
   * an account starts only once the one holding its earlier change has ended, so no account is
   * in two transactions at once.
   * When a transaction is cancelled because conditions failed, the changes that own those
   * conditions become conflicts and the rest of that transaction is sent again.
   * @throws PartialCommitError when a transaction fails for another reason (after the
   *   transactions already in flight have ended; none is started after the failure).
   */
  async commitMany(changes: readonly AccountChange[]): Promise<CommitManyResult> {
    const plans = await this.#planInOrder(changes);
    const batches = packTransactions(plans);
    const waitsFor = transactionDependencies(batches);
    const done = new Set<CommitPlan>();
    const conflicts = new Set<CommitPlan>();
    const ended: Promise<void>[] = [];
    const inFlight = new Set<Promise<void>>();
    let failure: { error: unknown } | undefined;

    const send = async (batch: readonly CommitPlan[]): Promise<void> => {
      let pending = batch;
      let transient = 0;
      while (pending.length > 0) {
        try {
          await this.#doc.send(
            new TransactWriteCommand({ TransactItems: pending.flatMap((plan) => plan.actions) }),
          );
          for (const plan of pending) done.add(plan);
          pending = [];
        } catch (error) {
          const failed = failedPlans(error, pending);
          if (failed && failed.size > 0) {
            for (const plan of failed) conflicts.add(plan);
            pending = pending.filter((plan) => !failed.has(plan));
            continue;
          }
          transient += 1;
          if (!isTransientCancellation(error) || transient >= this.#transactionAttempts) throw error;
          await backoff(transient, 5000);
        }
      }
    };

    for (const [index, batch] of batches.entries()) {
      // Earlier batches were started first, so the ones waited for hold slots or have ended.
      if (waitsFor[index]!.length > 0) await Promise.all(waitsFor[index]!.map((earlier) => ended[earlier]));
      if (failure) break;
      const release = this.#transactionSlots.take() ?? (await this.#transactionSlots.acquire());
      if (failure) {
        release();
        break;
      }
      const task: Promise<void> = send(batch)
        .catch((error: unknown) => {
          failure ??= { error };
        })
        .finally(() => {
          release();
          inFlight.delete(task);
        });
      ended[index] = task;
      inFlight.add(task);
    }
    await Promise.all(inFlight);
    if (failure) {
      throw new PartialCommitError(
        plans.filter((plan) => done.has(plan)).map((plan) => plan.stored),
        plans.filter((plan) => conflicts.has(plan)).map((plan) => plan.change),
        plans.filter((plan) => !done.has(plan) && !conflicts.has(plan)).map((plan) => plan.change),
        { cause: failure.error },
      );
    }
    return {
      committed: plans.filter((plan) => done.has(plan)).map((plan) => plan.stored),
      conflicts: plans.filter((plan) => conflicts.has(plan)).map((plan) => plan.change),
    };
  }

  /**
   * One Query per account partition, a few partitions at a time. A Query cannot filter on the sort
   * key beyond one key condition, so the partition's few notice items are read and skipped here.
   */
  async getAccountsWithInvoices(
    tenantId: string,
    accountIds: readonly string[],
  ): Promise<Map<string, AccountWithInvoices>> {
    const ids = [...new Set(accountIds)];
    const found: (AccountWithInvoices | undefined)[] = new Array(ids.length);
    let next = 0;
    const worker = async () => {
      while (next < ids.length) {
        const index = next++;
        found[index] = await this.#readAccountWithInvoices(tenantId, ids[index]!);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#readConcurrency, ids.length) }, worker));
    const result = new Map<string, AccountWithInvoices>();
    for (const [index, entry] of found.entries()) if (entry) result.set(ids[index]!, entry);
    return result;
  }

  async recordNoticeIntent(notice: NoticeRecord): Promise<boolean> {
    return this.#putIfAbsent(noticeItem(notice));
  }

  async auditTrail(tenantId: string, subject: string): Promise<AuditEntry[]> {
    const entries: AuditEntry[] = [];
    const input: QueryCommandInput = {
      TableName: this.#auditTable,
      KeyConditionExpression: `${attr.auditPk} = :subject`,
      ExpressionAttributeValues: { ':subject': keys.auditSubject(tenantId, subject) },
      ScanIndexForward: true,
      ConsistentRead: true,
    };
    for await (const item of this.#pages(input)) entries.push(auditEntryFromItem(item));
    return entries;
  }

  async getFileMarker(tenantId: string, sha256: string): Promise<FileMarker | undefined> {
    const { Item } = await this.#doc.send(
      new GetCommand({
        TableName: this.#accountsTable,
        Key: keys.file(tenantId, sha256),
        ConsistentRead: true,
      }),
    );
    return Item ? fileMarkerFromItem(Item) : undefined;
  }

  async putFileMarker(marker: FileMarker): Promise<boolean> {
    return this.#putIfAbsent(fileMarkerItem(marker));
  }

  async completeFileMarker(
    tenantId: string,
    sha256: string,
    completion: FileMarkerCompletion,
  ): Promise<FileMarker> {
    const { status, completedAt, receiptKey } = FileMarkerCompletion.parse(completion);
    const sets = ['#status = :status', 'completedAt = :completedAt'];
    const values: Record<string, string> = { ':status': status, ':completedAt': completedAt };
    if (receiptKey !== undefined) {
      sets.push('receiptKey = :receiptKey');
      values[':receiptKey'] = receiptKey;
    }
    try {
      const { Attributes } = await this.#doc.send(
        new UpdateCommand({
          TableName: this.#accountsTable,
          Key: keys.file(tenantId, sha256),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: `attribute_exists(${attr.pk})`,
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return fileMarkerFromItem(Attributes ?? {});
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw new FileMarkerMissingError(tenantId, sha256);
      throw error;
    }
  }

  /**
   * The invoice pages a change's invoices are placed on: none for a new account or a change
   * without invoices, else the account's pages as stored now. Read now rather than with the
   * account: if the account changed in between, its version condition cancels the commit anyway.
   */
  async #pagesBefore(change: AccountChange): Promise<readonly InvoicePage[]> {
    if (!change.before || !change.invoices?.length) return [];
    const { tenantId, accountId } = change.after;
    const seenKey = `${tenantId}\u0000${accountId}`;
    const seen = this.#pagesSeen.get(seenKey);
    this.#pagesSeen.delete(seenKey);
    if (seen?.version === change.before.version) return seen.pages;
    return this.#readInvoicePages(tenantId, accountId);
  }

  /**
   * Plans changes in order. A later change of an account in the same call is placed on the pages
   * as the earlier one leaves them (it can only commit after it, on the version it produces).
   */
  async #planInOrder(changes: readonly AccountChange[]): Promise<CommitPlan[]> {
    const accountOf = (change: AccountChange) => `${change.after.tenantId}\u0000${change.after.accountId}`;
    const firstOf = new Map<string, AccountChange>();
    const repeated = new Set<string>();
    for (const change of changes) {
      const account = accountOf(change);
      if (firstOf.has(account)) repeated.add(account);
      else firstOf.set(account, change);
    }
    const read = new Map<AccountChange, readonly InvoicePage[]>();
    await forEachConcurrently([...firstOf.values()], this.#readConcurrency, async (change) => {
      read.set(change, await this.#pagesBefore(change));
    });
    const pagesNow = new Map<string, readonly InvoicePage[]>();
    return changes.map((change) => {
      const account = accountOf(change);
      const plan = this.#plan(change, pagesNow.get(account) ?? read.get(change) ?? []);
      if (repeated.has(account)) pagesNow.set(account, plan.pagesAfter);
      return plan;
    });
  }

  /** Turns a change into transaction actions and the account as it will be stored. */
  #plan(change: AccountChange, pagesBefore: readonly InvoicePage[]): CommitPlan {
    const { before, after } = change;
    const { tenantId, accountId } = after;
    if (change.audit.length === 0) {
      throw new InvalidAccountChangeError(`change of account ${tenantId}/${accountId} has no audit entry`);
    }
    if (before && (before.tenantId !== tenantId || before.accountId !== accountId)) {
      throw new InvalidAccountChangeError(
        `change turns account ${before.tenantId}/${before.accountId} into ${tenantId}/${accountId}`,
      );
    }
    const strangers = [
      ...(change.invoices ?? []),
      ...(change.notices ?? []),
      ...(change.payments ?? []),
    ].filter((item) => item.tenantId !== tenantId || item.accountId !== accountId);
    if (strangers.length > 0) {
      throw new InvalidAccountChangeError(
        `change of account ${tenantId}/${accountId} carries items of another account (${strangers[0]?.tenantId}/${strangers[0]?.accountId})`,
      );
    }

    // DynamoDB refuses two actions on one item in a transaction, and an invoice twice would leave
    // it to chance which one a page keeps: say which item instead.
    const itemKeys = [
      ...(change.invoices ?? []).map((invoice) => `invoice ${invoice.invoiceId}`),
      ...(change.notices ?? []).map(
        (notice) => keys.notice(tenantId, accountId, notice.cycleId, notice.rung).sk,
      ),
      ...(change.payments ?? []).map((payment) => keys.payment(tenantId, accountId, payment.paymentId).sk),
    ];
    const repeated = itemKeys.find((key, index) => itemKeys.indexOf(key) !== index);
    if (repeated !== undefined) {
      throw new InvalidAccountChangeError(
        `change of account ${tenantId}/${accountId} writes ${repeated} twice`,
      );
    }

    const pages = change.invoices?.length ? placeInvoices(pagesBefore, change.invoices) : [];
    const actionCount =
      1 + pages.length + (change.notices?.length ?? 0) + (change.payments?.length ?? 0) + change.audit.length;
    if (actionCount > MAX_TRANSACTION_ACTIONS) {
      throw new TransactionTooLargeError(tenantId, accountId, actionCount);
    }

    const entries = chainEntries(
      {
        tenantId,
        subject: accountId,
        seq: before?.auditSeq ?? 0,
        hash: before?.auditHead ?? GENESIS_HASH,
      },
      change.audit,
    );
    const head = entries[entries.length - 1]!;
    const stored: Account = {
      ...after,
      version: (before?.version ?? 0) + 1,
      auditSeq: head.seq,
      auditHead: head.hash,
    };
    const accountPut: TransactItem = before
      ? {
          Put: {
            TableName: this.#accountsTable,
            Item: accountItem(stored),
            ConditionExpression: 'version = :expected',
            ExpressionAttributeValues: { ':expected': before.version },
          },
        }
      : {
          Put: {
            TableName: this.#accountsTable,
            Item: accountItem(stored),
            ConditionExpression: `attribute_not_exists(${attr.pk})`,
          },
        };
    const actions: TransactItem[] = [
      accountPut,
      // Pages need no condition of their own: they change only with the account.
      ...pages.map((page) => ({
        Put: { TableName: this.#accountsTable, Item: invoicePageItem(tenantId, accountId, page) },
      })),
      ...(change.notices ?? []).map((notice) => ({
        Put: { TableName: this.#accountsTable, Item: noticeItem(notice) },
      })),
      // A payment is applied once: its record is written once, never replaced.
      ...(change.payments ?? []).map((payment) => ({
        Put: {
          TableName: this.#accountsTable,
          Item: paymentItem(payment),
          ConditionExpression: `attribute_not_exists(${attr.pk})`,
        },
      })),
      ...entries.map((entry) => ({
        Put: {
          TableName: this.#auditTable,
          Item: auditItem(entry),
          ConditionExpression: `attribute_not_exists(${attr.auditPk})`,
        },
      })),
    ];
    const bytes = estimateBytes(actions);
    if (bytes > MAX_TRANSACTION_BYTES) {
      throw new TransactionTooLargeError(tenantId, accountId, actions.length, bytes);
    }
    const firstPayment = 1 + pages.length + (change.notices?.length ?? 0);
    const conflictPositions = new Set([
      0,
      ...(change.payments ?? []).map((_, index) => firstPayment + index),
    ]);
    const pagesAfter = pages.length > 0 ? mergePages(pagesBefore, pages) : pagesBefore;
    return { change, actions, stored, pagesAfter, bytes, conflictPositions };
  }

  async #readInvoicePages(tenantId: string, accountId: string): Promise<InvoicePage[]> {
    const items = await this.#queryPrefix(tenantId, accountId, keys.invoicePagePrefix);
    return items.map(invoicePageFromItem);
  }

  async #readAccountWithInvoices(
    tenantId: string,
    accountId: string,
  ): Promise<AccountWithInvoices | undefined> {
    const { pk, sk } = keys.account(tenantId, accountId);
    let account: Account | undefined;
    const pages: InvoicePage[] = [];
    const input: QueryCommandInput = {
      TableName: this.#accountsTable,
      KeyConditionExpression: `${attr.pk} = :pk`,
      ExpressionAttributeValues: { ':pk': pk },
      ConsistentRead: true,
    };
    for await (const item of this.#pages(input)) {
      const itemSk = item[attr.sk];
      if (itemSk === sk) account = accountFromItem(item);
      else if (typeof itemSk === 'string' && itemSk.startsWith(keys.invoicePagePrefix)) {
        pages.push(invoicePageFromItem(item));
      }
    }
    if (!account) return undefined;
    const seenKey = `${tenantId}\u0000${accountId}`;
    this.#pagesSeen.delete(seenKey);
    this.#pagesSeen.set(seenKey, { version: account.version, pages });
    // Oldest first out: a caller plans soon after it reads.
    if (this.#pagesSeen.size > PAGES_SEEN_LIMIT) this.#pagesSeen.delete(this.#pagesSeen.keys().next().value!);
    return { account, invoices: invoicesOfPages(pages) };
  }

  /** Items of the accounts table by key (at most 100), asking again for unprocessed keys. */
  async #batchGet(itemKeys: readonly Item[]): Promise<Item[]> {
    const items: Item[] = [];
    let pending = itemKeys;
    for (let attempt = 1; pending.length > 0; attempt += 1) {
      if (attempt > this.#batchGetAttempts) {
        throw new UnprocessedKeysError(
          `${pending.length} key(s) of ${this.#accountsTable} stayed unprocessed after ${this.#batchGetAttempts} BatchGetItem attempts`,
        );
      }
      if (attempt > 1) await backoff(attempt);
      const input: BatchGetCommandInput = {
        RequestItems: { [this.#accountsTable]: { Keys: [...pending], ConsistentRead: true } },
      };
      const { Responses, UnprocessedKeys } = await this.#doc.send(new BatchGetCommand(input));
      items.push(...(Responses?.[this.#accountsTable] ?? []));
      pending = UnprocessedKeys?.[this.#accountsTable]?.Keys ?? [];
    }
    return items;
  }

  async #queryPrefix(tenantId: string, accountId: string, prefix: string): Promise<Item[]> {
    const items: Item[] = [];
    const input: QueryCommandInput = {
      TableName: this.#accountsTable,
      KeyConditionExpression: `${attr.pk} = :pk AND begins_with(${attr.sk}, :prefix)`,
      ExpressionAttributeValues: { ':pk': keys.account(tenantId, accountId).pk, ':prefix': prefix },
      ConsistentRead: true,
    };
    for await (const item of this.#pages(input)) items.push(item);
    return items;
  }

  async *#pages(input: QueryCommandInput): AsyncIterable<Item> {
    let startKey: QueryCommandInput['ExclusiveStartKey'];
    do {
      const page = await this.#doc.send(
        new QueryCommand(startKey ? { ...input, ExclusiveStartKey: startKey } : input),
      );
      yield* page.Items ?? [];
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }

  async #putIfAbsent(item: Item): Promise<boolean> {
    try {
      await this.#doc.send(
        new PutCommand({
          TableName: this.#accountsTable,
          Item: item,
          ConditionExpression: `attribute_not_exists(${attr.pk})`,
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }
}

/**
 * Packs plans into transactions, first fit in the order given: a plan goes into the first
 * transaction with room (actions and estimated bytes) that comes after any transaction holding
 * the same account.
 */
export const packTransactions = <
  P extends { change: AccountChange; actions: readonly unknown[]; bytes?: number },
>(
  plans: readonly P[],
): P[][] => {
  const batches: { plans: P[]; actions: number; bytes: number }[] = [];
  const lastBatchOf = new Map<string, number>();
  for (const plan of plans) {
    const account = `${plan.change.after.tenantId}\u0000${plan.change.after.accountId}`;
    const earliest = (lastBatchOf.get(account) ?? -1) + 1;
    const bytes = plan.bytes ?? 0;
    let target = batches.findIndex(
      (batch, index) =>
        index >= earliest &&
        batch.actions + plan.actions.length <= MAX_TRANSACTION_ACTIONS &&
        batch.bytes + bytes <= MAX_TRANSACTION_BYTES,
    );
    if (target < 0) {
      batches.push({ plans: [], actions: 0, bytes: 0 });
      target = batches.length - 1;
    }
    const batch = batches[target]!;
    batch.plans.push(plan);
    batch.actions += plan.actions.length;
    batch.bytes += bytes;
    lastBatchOf.set(account, target);
  }
  return batches.map((batch) => batch.plans);
};

/**
 * For each transaction, the earlier transactions holding a change of one of its accounts: it
 * may start only after those have ended.
 */
export const transactionDependencies = <P extends { change: AccountChange }>(
  batches: readonly (readonly P[])[],
): number[][] => {
  const lastBatchOf = new Map<string, number>();
  return batches.map((batch, index) => {
    const earlier = new Set<number>();
    for (const plan of batch) {
      const account = `${plan.change.after.tenantId}\u0000${plan.change.after.accountId}`;
      const previous = lastBatchOf.get(account);
      if (previous !== undefined) earlier.add(previous);
      lastBatchOf.set(account, index);
    }
    return [...earlier];
  });
};

/** A counting semaphore: `acquire` resolves with the function that gives the slot back, in FIFO order. */
class Slots {
  #free: number;
  readonly #waiting: (() => void)[] = [];

  constructor(size: number) {
    this.#free = size;
  }

  /** A free slot now, without waiting a tick, or undefined. */
  take(): (() => void) | undefined {
    if (this.#free === 0) return undefined;
    this.#free -= 1;
    return this.#releaser();
  }

  async acquire(): Promise<() => void> {
    const now = this.take();
    if (now) return now;
    // A releasing holder hands its slot straight to the first in line.
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
    return this.#releaser();
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free += 1;
    };
  }
}

/** Runs `work` on every item, at most `concurrency` at a time; the first failure is thrown once all have ended. */
/** The pages with the changed ones in place of their old selves. */
const mergePages = (before: readonly InvoicePage[], changed: readonly InvoicePage[]): InvoicePage[] => {
  const byNumber = new Map(before.map((page) => [page.page, page]));
  for (const page of changed) byNumber.set(page.page, page);
  return [...byNumber.values()].sort((a, b) => a.page - b.page);
};

/**
 * The request bytes of transaction actions, estimated from their JSON (a little more than
 * DynamoDB counts), to keep each transaction under its 4 MB.
 */
const estimateBytes = (actions: readonly TransactItem[]): number => {
  let bytes = 0;
  for (const action of actions) bytes += JSON.stringify(action.Put?.Item ?? action).length;
  return bytes;
};

const forEachConcurrently = async <T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> => {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (next < items.length && !failure) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, concurrency), items.length) }, worker));
  if (failure) throw failure.error;
};

/** Exponential backoff with full jitter before attempt `attempt + 1`: up to 50 ms, 100 ms, 200 ms… capped at `capMs`. */
const backoff = (attempt: number, capMs = 2000): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(capMs, 25 * 2 ** attempt)));

/** Cancellation reasons that say "not now" rather than "no": the same transaction may succeed later. */
const TRANSIENT_CANCELLATIONS = new Set([
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
  'TransactionConflict',
]);

/** A transaction cancelled only for throttling or a conflicting transaction in progress. */
const isTransientCancellation = (error: unknown): boolean => {
  const codes = cancellationCodes(error) ?? [];
  const transient = (code: string | undefined) => code !== undefined && TRANSIENT_CANCELLATIONS.has(code);
  return (
    codes.some(transient) && codes.every((code) => code === undefined || code === 'None' || transient(code))
  );
};

/** The per-action codes of a cancelled transaction (`None`, `ConditionalCheckFailed`...), if it was one. */
const cancellationCodes = (error: unknown): (string | undefined)[] | undefined => {
  if (!(error instanceof Error) || error.name !== 'TransactionCanceledException') return undefined;
  const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
  return reasons?.map((reason) => reason.Code);
};

/**
 * The plans whose account or payments changed since they were read, by the positions of the
 * cancellation reasons (a concurrent writer usually took the same audit sequence numbers too).
 * Undefined when the error is no cancellation, or when only an audit condition of a plan failed:
 * its chain is broken, and reading again would not fix it.
 */
const failedPlans = (error: unknown, plans: readonly CommitPlan[]): Set<CommitPlan> | undefined => {
  const codes = cancellationCodes(error);
  if (!codes) return undefined;
  const failed = new Set<CommitPlan>();
  let offset = 0;
  for (const plan of plans) {
    const positions = codes
      .slice(offset, offset + plan.actions.length)
      .flatMap((code, position) => (code === 'ConditionalCheckFailed' ? [position] : []));
    if (positions.some((position) => plan.conflictPositions.has(position))) failed.add(plan);
    else if (positions.length > 0) return undefined;
    offset += plan.actions.length;
  }
  return failed;
};

const isConditionalCheckFailed = (error: unknown): boolean =>
  error instanceof Error && error.name === 'ConditionalCheckFailedException';
