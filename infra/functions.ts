import type { EnvNames } from '../shared/config';
import { LadderSubstitution } from '../statemachines/escalation-ladder.substitutions';

/**
 * The catalog of Lambda functions: what each one is, what triggers it, what it may touch and which
 * SDK clients it bundles. The stack wires resources from this list and the bundle benchmark reads
 * it, so a new function is one entry here plus its folder under functions/.
 *
 * Plain data on purpose (no aws-cdk-lib import): the benchmark and the local runtime read it
 * without loading the CDK.
 */

export const functionNames = [
  'ingest-invoices',
  'aging-scan',
  'ladder-evaluate',
  'send-notice',
  'export-reports',
  'payment-webhook',
  'reconcile-payments',
] as const;
export type FunctionName = (typeof functionNames)[number];

/** The environment variables a function needs, by their key in shared/config.ts `EnvNames`. */
export type EnvKey = Exclude<keyof typeof EnvNames, 'logLevel'>;

/**
 * - `read`: get, query, batch get.
 * - `readWrite`: read plus put, update, delete, transactions.
 * - `append`: read plus PutItem and ConditionCheckItem, never UpdateItem or DeleteItem, so an audit
 *   entry once written cannot be changed by the application.
 */
export type TableAccess = 'read' | 'readWrite' | 'append';

/** Object-level access to a bucket, by key prefix (each ends with `/`). */
export interface BucketAccess {
  read?: readonly string[];
  write?: readonly string[];
}

export type QueueName = 'invoices' | 'payments';
export type ScheduleName = 'agingScan' | 'exportReports';

export type Trigger =
  /** SQS event source with partial batch responses. */
  | { kind: 'queue'; queue: QueueName; batchSize: number; maxBatchingWindowSeconds?: number }
  /** EventBridge Scheduler, daily at the region's configured time. */
  | { kind: 'schedule'; schedule: ScheduleName }
  /** Route on the webhook HTTP API. */
  | { kind: 'http'; method: 'POST'; path: string }
  /** Task state of the escalation ladder; the value is the ASL placeholder it fills. */
  | { kind: 'ladderTask'; substitution: (typeof LadderSubstitution)[keyof typeof LadderSubstitution] };

export interface Grants {
  accounts?: TableAccess;
  audit?: TableAccess;
  inbox?: BucketAccess;
  reports?: BucketAccess;
  /** sqs:SendMessage on the payments queue. */
  sendPayments?: true;
  /** sqs:SendMessage on the invoices queue: an ingest short of time hands the rest of a file on. */
  sendInvoices?: true;
  /** secretsmanager:GetSecretValue on the webhook signing secrets. */
  readWebhookSecret?: true;
  /** states:StartExecution on the escalation ladder. */
  startLadder?: true;
  /** ses:SendEmail / SendRawEmail from the region's configured sender identity. */
  sendEmail?: true;
}

export interface FunctionSpec {
  /** Folder under functions/, logger service name, and (PascalCase + "Function") the CDK id. */
  name: FunctionName;
  description: string;
  trigger: Trigger;
  timeoutSeconds: number;
  memoryMb: number;
  /** /tmp size in MiB, when the default 512 is not enough. */
  ephemeralStorageMb?: number;
  env: readonly EnvKey[];
  grants: Grants;
  /** The AWS SDK v3 packages the handler imports; the bundle benchmark compares against importing only these. */
  sdkClients: readonly string[];
}

export const functionEntry = (name: FunctionName): string => `functions/${name}/handler.ts`;

/** `send-notice` -> `SendNoticeFunction`. */
export const functionId = (name: FunctionName): string =>
  `${name
    .split('-')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('')}Function`;

const tableEnv = ['accountsTable', 'auditTable'] as const satisfies readonly EnvKey[];
const dynamo = ['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb'] as const;

export const functionCatalog: readonly FunctionSpec[] = [
  {
    name: 'ingest-invoices',
    description:
      'Parses an invoice file from the inbox into accounts and invoices, with an audit entry each.',
    trigger: { kind: 'queue', queue: 'invoices', batchSize: 1 },
    // Large files are streamed and written in transactions of at most 100 items: minutes, not seconds.
    timeoutSeconds: 15 * 60,
    // 1769 MB is one full vCPU: CSV parsing and hashing are CPU-bound.
    memoryMb: 1769,
    // Ingest spills partitions of valid rows to /tmp (about 3x the file): 1M rows take ~400 MB,
    // a file at the 512 MiB size limit ~1.6 GB.
    ephemeralStorageMb: 2048,
    env: [...tableEnv, 'inboxBucket', 'invoicesQueueUrl'],
    grants: {
      accounts: 'readWrite',
      audit: 'append',
      inbox: { read: ['inbox/', 'receipts/'], write: ['receipts/'] },
      sendInvoices: true,
    },
    sdkClients: [...dynamo, '@aws-sdk/client-s3', '@aws-sdk/client-sqs'],
  },
  {
    name: 'aging-scan',
    description: 'Finds the accounts that became overdue and starts one escalation ladder for each.',
    trigger: { kind: 'schedule', schedule: 'agingScan' },
    timeoutSeconds: 5 * 60,
    memoryMb: 1024,
    env: [...tableEnv, 'ladderStateMachineArn'],
    grants: { accounts: 'readWrite', audit: 'append', startLadder: true },
    sdkClients: [...dynamo, '@aws-sdk/client-sfn'],
  },
  {
    name: 'ladder-evaluate',
    description:
      'Decides the next rung of an account from its state, the ladder policy and the compliance rules.',
    trigger: { kind: 'ladderTask', substitution: LadderSubstitution.evaluateAccount },
    timeoutSeconds: 30,
    memoryMb: 1024,
    env: [...tableEnv],
    grants: { accounts: 'readWrite', audit: 'append' },
    sdkClients: [...dynamo],
  },
  {
    name: 'send-notice',
    description:
      'Sends one notice through SES v2 after re-checking the account, recording intent and message id.',
    trigger: { kind: 'ladderTask', substitution: LadderSubstitution.sendNotice },
    timeoutSeconds: 30,
    memoryMb: 1024,
    env: [...tableEnv],
    grants: { accounts: 'readWrite', audit: 'append', sendEmail: true },
    sdkClients: [...dynamo, '@aws-sdk/client-sesv2'],
  },
  {
    name: 'export-reports',
    description:
      'Writes the daily report files (aging, roll rates, notices) under reports/ for Athena or DuckDB.',
    trigger: { kind: 'schedule', schedule: 'exportReports' },
    timeoutSeconds: 15 * 60,
    memoryMb: 1769,
    env: [...tableEnv, 'reportsBucket'],
    grants: { accounts: 'read', audit: 'read', reports: { write: ['reports/'] } },
    sdkClients: [...dynamo, '@aws-sdk/client-s3'],
  },
  {
    name: 'payment-webhook',
    description: 'Verifies a payment gateway webhook, records a dedupe marker and queues the payment.',
    trigger: { kind: 'http', method: 'POST', path: '/webhooks/{provider}/{tenant}' },
    // Gateways time out after 10-30 s and retry; answering fast and queueing the work keeps them happy.
    timeoutSeconds: 10,
    memoryMb: 1024,
    env: [...tableEnv, 'paymentsQueueUrl', 'webhookSecretArn'],
    grants: { accounts: 'readWrite', audit: 'append', sendPayments: true, readWebhookSecret: true },
    sdkClients: [...dynamo, '@aws-sdk/client-sqs', '@aws-sdk/client-secrets-manager'],
  },
  {
    name: 'reconcile-payments',
    description:
      'Matches a queued payment to open invoices and updates balances, stopping the ladder when paid.',
    trigger: { kind: 'queue', queue: 'payments', batchSize: 10 },
    timeoutSeconds: 60,
    memoryMb: 1024,
    env: [...tableEnv],
    grants: { accounts: 'readWrite', audit: 'append' },
    sdkClients: [...dynamo],
  },
];

export const functionSpec = (name: FunctionName): FunctionSpec => {
  const spec = functionCatalog.find((candidate) => candidate.name === name);
  if (!spec) throw new Error(`no function "${name}" in the catalog`);
  return spec;
};
