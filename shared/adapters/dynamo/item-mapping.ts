/**
 * Domain objects to DynamoDB items and back. Items carry their keys, an `entity` tag (so a raw
 * scan or an export can tell items apart) and, for accounts, the sparse due-index attributes.
 * Reading strips all of those and parses with the domain schema, so a malformed item fails
 * loudly at the edge instead of deep inside a use case.
 */
import { Account } from '../../domain/account';
import { AuditEntry } from '../../domain/audit';
import { FileMarker } from '../../domain/ingest-file/file-marker';
import { needsLadder } from '../../domain/ladder/cycle';
import { NoticeRecord } from '../../domain/notice';
import { PaymentRecord } from '../../domain/reconcile';
import { accountsTable, auditTable, keys } from '../../tables';
import { type InvoicePage, invoicePageAttributes } from './invoice-pages';

export type Item = Record<string, unknown>;

/**
 * Drops undefined values of objects at every depth. The document client's `removeUndefinedValues` lives on
 * the shared DynamoDBClient's config, and any later `DynamoDBDocumentClient.from` on the same
 * client replaces it; items built here do not depend on it.
 */
export const compact = <T>(value: T): T => {
  // In a list, undefined becomes null as in JSON, so an audit entry's hash still matches.
  if (Array.isArray(value)) return value.map((inner) => (inner === undefined ? null : compact(inner))) as T;
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, inner]) => inner !== undefined)
        .map(([name, inner]) => [name, compact(inner)]),
    ) as T;
  }
  return value;
};

/** Attribute that names the kind of an item. */
export const ENTITY = 'entity';
export type Entity =
  | 'account'
  | 'invoice-page'
  | 'notice'
  | 'payment'
  | 'file'
  | 'audit'
  | 'webhook-event'
  | 'review';

const dueIndex = accountsTable.globalSecondaryIndexes[0];
if (!dueIndex) throw new Error('tables.ts: the accounts table has lost its due index');

/** Key and index attribute names, read from the table definitions (never spelled out here). */
export const attr = {
  pk: accountsTable.partitionKey.name,
  sk: accountsTable.sortKey.name,
  duePk: dueIndex.partitionKey.name,
  dueSk: dueIndex.sortKey.name,
  auditPk: auditTable.partitionKey.name,
  auditSk: auditTable.sortKey.name,
} as const;
export const DUE_INDEX_NAME = dueIndex.indexName;

const STORAGE_ATTRIBUTES = new Set<string>([
  attr.pk,
  attr.sk,
  attr.duePk,
  attr.dueSk,
  attr.auditPk,
  attr.auditSk,
  ENTITY,
]);

/** The item without its keys, index attributes and entity tag. */
export const stripStorage = (item: Item): Item =>
  Object.fromEntries(Object.entries(item).filter(([name]) => !STORAGE_ATTRIBUTES.has(name)));

/** The due index holds exactly the accounts that need a ladder started (see {@link needsLadder}). */
export const isDue = needsLadder;

/** Account item; the due-index attributes are present only while {@link isDue} holds. */
export const accountItem = (account: Account): Item =>
  compact({
    ...account,
    ...keys.account(account.tenantId, account.accountId),
    ...(isDue(account) && account.oldestDueDate !== undefined
      ? keys.dueIndex(account.tenantId, account.accountId, account.oldestDueDate)
      : {}),
    [ENTITY]: 'account' satisfies Entity,
  });

/** A page of an account's invoices (see invoice-pages.ts: why pages, and what goes where). */
export const invoicePageItem = (tenantId: string, accountId: string, page: InvoicePage): Item =>
  compact({
    ...invoicePageAttributes(tenantId, accountId, page),
    ...keys.invoicePage(tenantId, accountId, page.page),
    [ENTITY]: 'invoice-page' satisfies Entity,
  });

export const noticeItem = (notice: NoticeRecord): Item =>
  compact({
    ...notice,
    ...keys.notice(notice.tenantId, notice.accountId, notice.cycleId, notice.rung),
    [ENTITY]: 'notice' satisfies Entity,
  });

export const paymentItem = (payment: PaymentRecord): Item =>
  compact({
    ...payment,
    ...keys.payment(payment.tenantId, payment.accountId, payment.paymentId),
    [ENTITY]: 'payment' satisfies Entity,
  });

export const auditItem = (entry: AuditEntry): Item =>
  compact({
    ...entry,
    ...keys.audit(entry.tenantId, entry.subject, entry.seq),
    [ENTITY]: 'audit' satisfies Entity,
  });

export const fileMarkerItem = (marker: FileMarker): Item =>
  compact({
    ...marker,
    ...keys.file(marker.tenantId, marker.sha256),
    [ENTITY]: 'file' satisfies Entity,
  });

export const accountFromItem = (item: Item): Account => Account.parse(stripStorage(item));
export const noticeFromItem = (item: Item): NoticeRecord => NoticeRecord.parse(stripStorage(item));
export const paymentFromItem = (item: Item): PaymentRecord => PaymentRecord.parse(stripStorage(item));
export const auditEntryFromItem = (item: Item): AuditEntry => AuditEntry.parse(stripStorage(item));
export const fileMarkerFromItem = (item: Item): FileMarker => FileMarker.parse(stripStorage(item));

/**
 * Reads the account id and date back from a due-index sort key (`{date}#{accountId}`). Dates
 * contain no `#`, so everything after the first one is the account id.
 */
export const parseDueSortKey = (dueSk: string): { oldestDueDate: string; accountId: string } => {
  const separator = dueSk.indexOf('#');
  if (separator < 0) throw new Error(`malformed due-index sort key: ${dueSk}`);
  return { oldestDueDate: dueSk.slice(0, separator), accountId: dueSk.slice(separator + 1) };
};
