import * as z from './zod';

/**
 * Environment of the functions, validated once at cold start. The names are shared with the
 * CDK stack (which sets them) and the local runtime (which sets them for its servers).
 */
export const EnvNames = {
  accountsTable: 'ACCOUNTS_TABLE_NAME',
  auditTable: 'AUDIT_TABLE_NAME',
  inboxBucket: 'INBOX_BUCKET_NAME',
  reportsBucket: 'REPORTS_BUCKET_NAME',
  ladderStateMachineArn: 'LADDER_STATE_MACHINE_ARN',
  paymentsQueueUrl: 'PAYMENTS_QUEUE_URL',
  invoicesQueueUrl: 'INVOICES_QUEUE_URL',
  webhookSecretArn: 'WEBHOOK_SECRET_ARN',
  logLevel: 'LOG_LEVEL',
} as const;

const nonEmpty = z.string().check(z.minLength(1));

export const BaseEnv = z.object({
  [EnvNames.accountsTable]: nonEmpty,
  [EnvNames.auditTable]: nonEmpty,
  [EnvNames.logLevel]: z._default(z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']), 'INFO'),
});

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parses `process.env` (or a given record) against a schema, failing fast with every problem named. */
export const loadEnv = <S extends z.ZodMiniType>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.infer<S> => {
  const result = schema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues
      .map((issue) => `${issue.path.join('.')}: ${issue.message}`)
      .join('; ');
    throw new ConfigError(`invalid environment: ${problems}`);
  }
  return result.data;
};
