import type { Account } from '../../domain/account';
import type { AccountChange } from '../../ports/account-store';

/** DynamoDB's limit of actions in one TransactWriteItems. */
export const MAX_TRANSACTION_ACTIONS = 100;
/**
 * Bytes a change may take in one transaction (estimated, see the store): under DynamoDB's 4 MB
 * per TransactWriteItems with room for the request's own framing.
 */
export const MAX_TRANSACTION_BYTES = 3_500_000;

/** A change that breaks the store's contract (no audit entry, items of another account...). */
export class InvalidAccountChangeError extends Error {
  override readonly name = 'InvalidAccountChangeError';
}

/** A change that needs more actions or bytes than one DynamoDB transaction takes: split it upstream. */
export class TransactionTooLargeError extends Error {
  override readonly name = 'TransactionTooLargeError';
  constructor(
    readonly tenantId: string,
    readonly accountId: string,
    readonly actions: number,
    readonly bytes?: number,
  ) {
    super(
      bytes === undefined
        ? `change of account ${tenantId}/${accountId} needs ${actions} write actions, ` +
            `but one DynamoDB transaction takes at most ${MAX_TRANSACTION_ACTIONS}; commit it in smaller changes`
        : `change of account ${tenantId}/${accountId} writes about ${bytes} bytes, ` +
            `but one DynamoDB transaction takes at most 4 MB; commit it in smaller changes`,
    );
  }
}

/**
 * A transaction of `commitMany` failed for a reason other than a version conflict (throttling,
 * validation, network) after earlier transactions had already been committed. Each change is
 * still all or nothing: `committed` are durable, `uncommitted` were not applied.
 */
export class PartialCommitError extends Error {
  override readonly name = 'PartialCommitError';
  constructor(
    readonly committed: Account[],
    readonly conflicts: AccountChange[],
    readonly uncommitted: AccountChange[],
    options: { cause: unknown },
  ) {
    super(
      `committed ${committed.length} account change(s), then a transaction failed; ` +
        `${uncommitted.length} change(s) were not applied: ${String(options.cause)}`,
      options,
    );
  }
}
