import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { text } from 'node:stream/consumers';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import type { Context, S3Event, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { makeHandler as makeAgingScan } from '../../functions/aging-scan/aging-scan';
import type { AgingScanResult } from '../../functions/aging-scan/schema';
import { makeHandler as makeExportReports } from '../../functions/export-reports/export-reports';
import { makeHandler as makeIngestInvoices } from '../../functions/ingest-invoices/ingest-invoices';
import { makeHandler as makeLadderEvaluate } from '../../functions/ladder-evaluate/ladder-evaluate';
import { makeHandler as makeReconcilePayments } from '../../functions/reconcile-payments/reconcile-payments';
import { makeHandler as makeSendNotice } from '../../functions/send-notice/send-notice';
import { DynamoAccountStore } from '../../shared/adapters/dynamo/dynamo-account-store';
import { DynamoEventLedger } from '../../shared/adapters/dynamo/dynamo-event-ledger';
import { createTables } from '../../shared/adapters/dynamo/table-bootstrap';
import { S3BlobStore } from '../../shared/adapters/s3/s3-blob-store';
import { SesMailer } from '../../shared/adapters/ses/ses-mailer';
import { parseInboxKey } from '../../shared/domain/inbox';
import { addDays, dateIn, startOfLocalDay } from '../../shared/domain/time/calendar';
import { randomIds } from '../../shared/ports/ids';
import type { Deps } from '../../shared/runtime/deps';
import { createLogger } from '../../shared/runtime/logger';
import { loadBundledTenants } from '../../shared/runtime/tenants';
import { lambdaContext } from './lambda-context';
import { LocalQueue } from './local-queue';
import {
  DYNAMODB_LOCAL_TRANSACTIONS_IN_FLIGHT,
  type DynamoDbLocal,
  localDynamoDbClientConfig,
  startDynamoDbLocal,
} from './servers/dynamodb-local';
import { localS3ClientConfig, type S3Local, startS3Local } from './servers/s3-local';
import { localSesClientConfig, type SesLocal, startSesLocal } from './servers/ses-local';
import { LocalWorkflow, openLadderRunner } from './state-machine/ladder-runner';
import type { StateMachineRunner } from './state-machine/state-machine-runner';
import { VirtualClock } from './virtual-clock';

/** Names of the local tables and buckets (on AWS the stack names them per region). */
export const LOCAL_RESOURCES = {
  accountsTable: 'arrears-accounts',
  auditTable: 'arrears-audit',
  inboxBucket: 'arrears-inbox',
  reportsBucket: 'arrears-reports',
} as const;

/** The hour of the creditor's day at which the stack's schedules run the aging scan. */
export const AGING_SCAN_HOUR = 6;

export interface LocalRuntimeOptions {
  dataDir: string;
  /** Sets the virtual clock (`--now`); otherwise it carries on from the data folder. */
  now?: string;
  /** Log level of the functions (their JSON logs go to stderr-like stdout); quiet by default. */
  logLevel?: string;
}

type Handler<E, R> = (event: E, context: Context) => Promise<R>;

/**
 * The embedded runtime: real local servers in the roles of DynamoDB, S3 and SES v2, the ASL
 * interpreter in the role of Step Functions, and the same `makeHandler`s the Lambda entries use.
 * It plays the wiring the stack deploys: inbox objects → invoices queue → ingest-invoices;
 * a daily aging scan per tenant; ladder Task states → ladder-evaluate and send-notice.
 */
export class LocalRuntime {
  private constructor(
    readonly dataDir: string,
    readonly clock: VirtualClock,
    readonly deps: Deps,
    readonly servers: { dynamo: DynamoDbLocal; s3: S3Local; ses: SesLocal },
    readonly runner: StateMachineRunner,
    private readonly queues: { invoices: LocalQueue; payments: LocalQueue },
    private readonly handlers: {
      ingestInvoices: Handler<SQSEvent, SQSBatchResponse>;
      reconcilePayments: Handler<SQSEvent, SQSBatchResponse>;
      agingScan: Handler<unknown, AgingScanResult>;
      exportReports: Handler<unknown, unknown>;
    },
    private readonly clients: { dynamo: DynamoDBClient; s3: S3Client; ses: SESv2Client },
    private readonly unsubscribe: () => void,
  ) {}

  static async open(options: LocalRuntimeOptions): Promise<LocalRuntime> {
    const dataDir = resolve(options.dataDir);
    await mkdir(dataDir, { recursive: true });
    const clock = await VirtualClock.load(dataDir, options.now === undefined ? {} : { now: options.now });
    const [dynamo, s3, ses] = await Promise.all([
      startDynamoDbLocal({ dbPath: join(dataDir, 'dynamodb') }),
      startS3Local({ directory: join(dataDir, 's3') }),
      startSesLocal({ directory: join(dataDir, 'ses') }),
    ]);
    const clients = {
      dynamo: new DynamoDBClient(localDynamoDbClientConfig(dynamo.endpoint)),
      s3: new S3Client(localS3ClientConfig(s3.endpoint)),
      ses: new SESv2Client(localSesClientConfig(ses.endpoint)),
    };
    await createTables(clients.dynamo, {
      accounts: LOCAL_RESOURCES.accountsTable,
      audit: LOCAL_RESOURCES.auditTable,
    });
    await s3.createBucket(LOCAL_RESOURCES.inboxBucket);
    await s3.createBucket(LOCAL_RESOURCES.reportsBucket);

    const logLevel = options.logLevel ?? process.env.ARREARS_LOG_LEVEL ?? 'SILENT';
    const base = {
      clock,
      ids: randomIds,
      tenants: loadBundledTenants(),
      store: new DynamoAccountStore({
        client: clients.dynamo,
        accountsTable: LOCAL_RESOURCES.accountsTable,
        auditTable: LOCAL_RESOURCES.auditTable,
        writeConcurrency: DYNAMODB_LOCAL_TRANSACTIONS_IN_FLIGHT,
      }),
      blobs: new S3BlobStore(clients.s3),
      mailer: new SesMailer(clients.ses),
      buckets: { inbox: LOCAL_RESOURCES.inboxBucket, reports: LOCAL_RESOURCES.reportsBucket },
    };
    const withLogger = (service: string) => ({ ...base, logger: createLogger(service, logLevel) });
    const evaluate = makeLadderEvaluate(withLogger('ladder-evaluate'));
    const send = makeSendNotice(withLogger('send-notice'));
    const runner = await openLadderRunner({
      dataDir,
      clock,
      tasks: {
        EvaluateAccount: (input) => evaluate(input, lambdaContext('ladder-evaluate')),
        SendNotice: (input) => send(input, lambdaContext('send-notice')),
      },
    });
    const workflow = new LocalWorkflow(runner);
    const deps: Deps = { ...withLogger('local-runtime'), workflow };
    const queues = {
      invoices: await LocalQueue.open(dataDir, 'invoices'),
      payments: await LocalQueue.open(dataDir, 'payments'),
    };
    const handlers = {
      ingestInvoices: makeIngestInvoices(withLogger('ingest-invoices')),
      reconcilePayments: makeReconcilePayments({
        ...withLogger('reconcile-payments'),
        ledger: new DynamoEventLedger({
          client: clients.dynamo,
          accountsTable: LOCAL_RESOURCES.accountsTable,
        }),
      }),
      agingScan: makeAgingScan({ ...withLogger('aging-scan'), workflow }),
      exportReports: makeExportReports(withLogger('export-reports')),
    } as LocalRuntime['handlers'];

    // The stack routes "Object Created" of `inbox/*/invoices/*` through EventBridge to the
    // invoices queue; locally s3rver's notification takes that route.
    const pending: Promise<void>[] = [];
    const unsubscribe = s3.onObjectEvent((event: S3Event) => {
      for (const record of event.Records) {
        const key = decodeURIComponent(record.s3.object.key.replace(/\+/g, ' '));
        if (!record.eventName.startsWith('ObjectCreated') || parseInboxKey(key)?.kind !== 'invoices')
          continue;
        pending.push(
          queues.invoices.send(
            JSON.stringify({
              version: '0',
              id: record.responseElements['x-amz-request-id'],
              'detail-type': 'Object Created',
              source: 'aws.s3',
              account: '000000000000',
              time: record.eventTime,
              region: 'us-east-1',
              resources: [`arn:aws:s3:::${record.s3.bucket.name}`],
              detail: {
                version: '0',
                bucket: { name: record.s3.bucket.name },
                object: { key, size: record.s3.object.size, etag: record.s3.object.eTag },
                reason: 'PutObject',
              },
            }),
          ),
        );
      }
    });
    const runtime = new LocalRuntime(
      dataDir,
      clock,
      deps,
      { dynamo, s3, ses },
      runner,
      queues,
      handlers,
      clients,
      unsubscribe,
    );
    runtime.#pendingSends = pending;
    return runtime;
  }

  #pendingSends: Promise<void>[] = [];

  /** Puts a file into the local inbox, as a finance team's upload to the bucket would. */
  async putInboxFile(key: string, body: Uint8Array): Promise<void> {
    await this.deps.blobs.put(LOCAL_RESOURCES.inboxBucket, key, body, 'application/octet-stream');
  }

  /** Delivers every queued message to its consumer (with redelivery and the DLQ). */
  async drainQueues(): Promise<{ delivered: number; deadLettered: number }> {
    let delivered = 0;
    let deadLettered = 0;
    for (;;) {
      await Promise.all(this.#pendingSends.splice(0));
      const invoices = await this.queues.invoices.drain((event) =>
        this.handlers.ingestInvoices(event, lambdaContext('ingest-invoices')),
      );
      const payments = await this.queues.payments.drain((event) =>
        this.handlers.reconcilePayments(event, lambdaContext('reconcile-payments')),
      );
      delivered += invoices.delivered + payments.delivered;
      deadLettered += invoices.deadLettered + payments.deadLettered;
      if (invoices.delivered + payments.delivered === 0 && this.#pendingSends.length === 0) break;
    }
    return { delivered, deadLettered };
  }

  async runAgingScan(tenantIds?: string[]): Promise<AgingScanResult> {
    const result = await this.handlers.agingScan(tenantIds ? { tenantIds } : {}, lambdaContext('aging-scan'));
    await this.runner.runUntilSettled();
    return result;
  }

  async exportReports(): Promise<unknown> {
    return this.handlers.exportReports({}, lambdaContext('export-reports'));
  }

  /** Runs what is due now: queued messages, then ladder executions whose Wait has passed. */
  async settle(): Promise<void> {
    await this.drainQueues();
    this.runner.resumeDue();
    await this.runner.runUntilSettled();
  }

  /** The next daily aging scan of a tenant after `after` (06:00 in the creditor's zone). */
  nextScanAt(timeZone: string, after: Date): Date {
    const today = dateIn(after, timeZone);
    for (const date of [today, addDays(today, 1), addDays(today, 2)]) {
      const midnight = startOfLocalDay(date, timeZone, new Date(0));
      const scan = new Date(midnight.getTime() + AGING_SCAN_HOUR * 3_600_000);
      if (scan > after) return scan;
    }
    throw new Error(`no scan time found after ${after.toISOString()} in ${timeZone}`);
  }

  /**
   * Moves the virtual clock to `until`, stopping at every moment something is scheduled: each
   * tenant's daily aging scan and each parked ladder's wake-up time, in order.
   */
  async advanceTo(until: Date): Promise<{ scans: AgingScanResult[]; wakeUps: number }> {
    const scans: AgingScanResult[] = [];
    let wakeUps = 0;
    await this.settle();
    for (;;) {
      const now = this.clock.now();
      const tenants = this.deps.tenants.all();
      const scanTimes = tenants.map((tenant) => ({ tenant, at: this.nextScanAt(tenant.timeZone, now) }));
      const nextScan = scanTimes.reduce((a, b) => (a.at <= b.at ? a : b));
      const nextWake = this.runner.nextWakeAt();
      const next = nextWake && nextWake < nextScan.at ? nextWake : nextScan.at;
      if (next > until) break;
      this.clock.set(next);
      const dueTenants = scanTimes
        .filter((scan) => scan.at.getTime() === next.getTime())
        .map((s) => s.tenant.tenantId);
      if (dueTenants.length > 0) scans.push(await this.runAgingScan(dueTenants));
      wakeUps += this.runner.resumeDue().length;
      await this.runner.runUntilSettled();
      await this.drainQueues();
    }
    this.clock.set(until);
    await this.settle();
    return { scans, wakeUps };
  }

  /**
   * Collects the receipts the ingest writes from now on (s3rver announces each object), so a
   * caller sees exactly the receipts of its own upload, in the order they were written.
   */
  watchReceipts(): { stop(): Promise<Record<string, unknown>[]> } {
    const keys: string[] = [];
    const unsubscribe = this.servers.s3.onObjectEvent((event: S3Event) => {
      for (const record of event.Records) {
        const key = decodeURIComponent(record.s3.object.key.replace(/\+/g, ' '));
        if (
          record.eventName.startsWith('ObjectCreated') &&
          key.startsWith('receipts/') &&
          key.endsWith('.receipt.json')
        ) {
          keys.push(key);
        }
      }
    });
    return {
      stop: async () => {
        unsubscribe();
        const receipts: Record<string, unknown>[] = [];
        for (const key of keys) {
          const { body } = await this.deps.blobs.get(LOCAL_RESOURCES.inboxBucket, key);
          receipts.push(JSON.parse(await text(body)) as Record<string, unknown>);
        }
        return receipts;
      },
    };
  }

  /** Writes every e-mail the local SES server holds to `<dataDir>/outbox/` as plain text files. */
  async writeOutbox(): Promise<{ dir: string; count: number }> {
    const dir = join(this.dataDir, 'outbox');
    await mkdir(dir, { recursive: true });
    const emails = await this.servers.ses.sentEmails();
    await Promise.all(
      emails.map((email, index) => {
        const headers = [
          `Message-ID: ${email.messageId}`,
          `From: ${email.from}`,
          `To: ${email.destination.to.join(', ')}`,
          ...(email.replyTo.length > 0 ? [`Reply-To: ${email.replyTo.join(', ')}`] : []),
          `Subject: ${email.subject}`,
          ...(email.headers ?? []).map((header) => `${header.name}: ${header.value}`),
        ];
        const name = `${String(index + 1).padStart(4, '0')}-${email.destination.to[0]?.replace(/[^A-Za-z0-9@._-]/g, '_') ?? 'unknown'}.txt`;
        return writeFile(
          join(dir, name),
          `${headers.join('\n')}\n\n${email.body.text ?? email.body.html ?? ''}`,
        );
      }),
    );
    return { dir, count: emails.length };
  }

  async close(): Promise<void> {
    this.unsubscribe();
    await this.runner.idle();
    await this.clock.save();
    for (const client of Object.values(this.clients)) client.destroy();
    await Promise.allSettled([this.servers.dynamo.stop(), this.servers.s3.stop(), this.servers.ses.stop()]);
  }
}
