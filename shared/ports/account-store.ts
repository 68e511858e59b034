import type { Account, Invoice } from '../domain/account';
import type { AuditDraft, AuditEntry } from '../domain/audit';
import type { NoticeRecord } from '../domain/notice';

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

export interface DueAccount {
  accountId: string;
  oldestDueDate: string;
}

/** Accounts, their invoices and notices, and their audit trails. */
export interface AccountStore {
  getAccount(tenantId: string, accountId: string): Promise<Account | undefined>;
  getInvoices(tenantId: string, accountId: string): Promise<Invoice[]>;
  getNotice(tenantId: string, accountId: string, cycleId: string, rung: number): Promise<NoticeRecord | undefined>;
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
   * Records that a notice is about to be sent, only if no record exists yet for that cycle and
   * rung. Returns false when one exists (sent, or in doubt after a crash).
   */
  recordNoticeIntent(notice: NoticeRecord): Promise<boolean>;
  auditTrail(tenantId: string, subject: string): Promise<AuditEntry[]>;
}
