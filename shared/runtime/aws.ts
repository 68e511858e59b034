import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoAccountStore } from '../adapters/dynamo/dynamo-account-store';
import { BaseEnv, EnvNames, loadEnv } from '../config';
import { systemClock } from '../ports/clock';
import { randomIds } from '../ports/ids';
import * as z from '../zod';
import { createLogger } from './logger';
import { loadBundledTenants } from './tenants';

/**
 * The pieces every function's AWS entry shares: environment validated once at cold start, one
 * DynamoDB client, the bundled tenant registry. Each handler.ts adds only the clients it uses,
 * so a bundle carries no SDK client it does not call.
 */
export const awsBase = (serviceName: string) => {
  const env = loadEnv(BaseEnv);
  // Adaptive retries back off under throttling instead of failing a large ingest after 3 tries.
  const dynamo = new DynamoDBClient({ maxAttempts: 10, retryMode: 'adaptive' });
  return {
    clock: systemClock,
    ids: randomIds,
    logger: createLogger(serviceName, env[EnvNames.logLevel]),
    tenants: loadBundledTenants(),
    store: new DynamoAccountStore({
      client: dynamo,
      accountsTable: env[EnvNames.accountsTable],
      auditTable: env[EnvNames.auditTable],
    }),
  };
};

/** Reads the function's own extra environment variables, failing fast like the base ones. */
export const extraEnv = <K extends string>(...names: K[]): Record<K, string> =>
  loadEnv(
    z.object(Object.fromEntries(names.map((name) => [name, z.string().check(z.minLength(1))]))),
  ) as Record<K, string>;
