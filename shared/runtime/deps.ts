import type { Logger } from '@aws-lambda-powertools/logger';
import type { Tenants } from '../domain/tenant/tenant';
import type { AccountStore } from '../ports/account-store';
import type { BlobStore } from '../ports/blob-store';
import type { Clock } from '../ports/clock';
import type { Ids } from '../ports/ids';
import type { Mailer } from '../ports/mailer';
import type { Workflow } from '../ports/workflow';

/**
 * Everything a use case may need from the outside world. Each function takes the subset it
 * uses (`Pick<Deps, ...>`); the AWS entry and the local runtime build them with the same
 * adapters and differ only in endpoints, the clock and the workflow engine.
 */
export interface Deps {
  clock: Clock;
  ids: Ids;
  logger: Logger;
  tenants: Tenants;
  store: AccountStore;
  blobs: BlobStore;
  mailer: Mailer;
  workflow: Workflow;
  buckets: { inbox: string; reports: string };
}
