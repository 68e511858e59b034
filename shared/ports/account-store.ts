import type { Account, Invoice } from '../domain/account';
import type { AuditDraft, AuditEntry } from '../domain/audit';
import type { FileMarker, FileMarkerCompletion } from '../domain/ingest-file/file-marker';
import type { NoticeRecord } from '../domain/notice';
import type { PaymentRecord } from '../domain/reconcile';

/**
 * One atomic change of one account: the account's new state, the items that change with it and
 * the audit entries that explain it. A store commits all of it or nothing.
 */
export interface AccountChange {
  /** The account as read (null when it is new): its version is the optimistic lock. */
  before: Account | null;
  /** The account's new state. The store sets `version`, `auditSeq` and `auditHead`. */
  after: Account;
  invoices?: Invoice[];
  notices?: NoticeRecord[];
  /** Payments applied by this change, stored in the account's partition (`keys.payment`, entity 'payment'). */
  payments?: PaymentRecord[];
  /** At least one: no state change without its audit entry. */
  audit: AuditDraft[];
}

export class VersionConflictError extends Error {
  override readonly name = 'VersionConflictError';
  constructor(
    readonly tenantId: string,
    readonly accountId: string,
  ) {
    super(`account ${tenantId}/${accountId} was changed by someone else; read it again and retry`);
  }
}

/** What {@link AccountStore.commitMany} did: every change lands in exactly one of the two lists. */
export interface CommitManyResult {
  /** Accounts as stored, in the order their changes were given. */
  committed: Account[];
  /** Changes refused because their account changed since it was read: read again and retry. */
  conflicts: AccountChange[];
}

/** An account with its invoices, as read together by {@link AccountStore.getAccountsWithInvoices}. */
export interface AccountWithInvoices {
  account: Account;
  invoices: Invoice[];
}

export interface DueAccount {
  accountId: string;
  oldestDueDate: string;
}

/** Accounts, their invoices and notices, and their audit trails. */
export interface AccountStore {
  getAccount(tenantId: string, accountId: string): Promise<Account | undefined>;
  /**
   * Reads many accounts at once (consistent reads), without their invoices: the cheap way to
   * learn which accounts exist. Accounts that do not exist are absent from the map.
   */
  getAccounts(tenantId: string, accountIds: readonly string[]): Promise<Map<string, Account>>;
  getInvoices(tenantId: string, accountId: string): Promise<Invoice[]>;
  getNotice(
    tenantId: string,
    accountId: string,
    cycleId: string,
    rung: number,
  ): Promise<NoticeRecord | undefined>;
  listNotices(tenantId: string, accountId: string): Promise<NoticeRecord[]>;
  listAccounts(tenantId: string): AsyncIterable<Account>;
  /** Accounts that owe money, have no active cycle, and whose oldest due date is before `date`. */
  listDueAccounts(tenantId: string, beforeDate: string): AsyncIterable<DueAccount>;
  /**
   * Commits the change in one transaction: account (conditioned on its version), invoices,
   * notices and chained audit entries. Returns the account as stored.
   * @throws VersionConflictError when the account changed since it was read.
   */
  commit(change: AccountChange): Promise<Account>;
  /**
   * Commits many accounts' changes in as few transactions as the store allows. Each change is
   * still all or nothing, and a change whose account changed since it was read is returned in
   * `conflicts` instead of failing the others.
   */
  commitMany(changes: readonly AccountChange[]): Promise<CommitManyResult>;
  /** Reads accounts with their invoices; accounts that do not exist are absent from the map. */
  getAccountsWithInvoices(
    tenantId: string,
    accountIds: readonly string[],
  ): Promise<Map<string, AccountWithInvoices>>;
  /**
   * Records that a notice is about to be sent, only if no record exists yet for that cycle and
   * rung. Returns false when one exists (sent, or in doubt after a crash).
   */
  recordNoticeIntent(notice: NoticeRecord): Promise<boolean>;
  auditTrail(tenantId: string, subject: string): Promise<AuditEntry[]>;
  /** The marker of a file already seen, by its checksum. */
  getFileMarker(tenantId: string, sha256: string): Promise<FileMarker | undefined>;
  /** Claims a file for ingest. Returns false when a marker for the same checksum exists. */
  putFileMarker(marker: FileMarker): Promise<boolean>;
  /**
   * Records how ingest of a file ended and returns the marker as stored.
   * @throws FileMarkerMissingError when no marker exists for the checksum.
   */
  completeFileMarker(tenantId: string, sha256: string, completion: FileMarkerCompletion): Promise<FileMarker>;
}

export class FileMarkerMissingError extends Error {
  override readonly name = 'FileMarkerMissingError';
  constructor(
    readonly tenantId: string,
    readonly sha256: string,
  ) {
    super(`no marker for file ${sha256} of tenant ${tenantId}: it must be claimed before it is completed`);
  }
}
