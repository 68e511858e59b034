import type { Account } from '../domain/account';
import { type AccountChange, type AccountStore, VersionConflictError } from '../ports/account-store';

export class AccountNotFoundError extends Error {
  override readonly name = 'AccountNotFoundError';
  constructor(tenantId: string, accountId: string) {
    super(`account ${tenantId}/${accountId} does not exist`);
  }
}

/**
 * Read-decide-commit with optimistic locking: reads the account, lets `decide` return the change
 * to make (or nothing), commits it, and on a version conflict reads again and decides again.
 * `decide` must be a pure function of the account it is given.
 */
export const updateAccount = async <T>(
  store: AccountStore,
  tenantId: string,
  accountId: string,
  decide: (account: Account) => { change: Omit<AccountChange, 'before'> | null; result: T },
  attempts = 4,
): Promise<{ account: Account; result: T; committed: boolean }> => {
  for (let attempt = 1; ; attempt += 1) {
    const account = await store.getAccount(tenantId, accountId);
    if (!account) throw new AccountNotFoundError(tenantId, accountId);
    const { change, result } = decide(account);
    if (!change) return { account, result, committed: false };
    try {
      const stored = await store.commit({ ...change, before: account });
      return { account: stored, result, committed: true };
    } catch (error) {
      if (!(error instanceof VersionConflictError) || attempt >= attempts) throw error;
    }
  }
};
