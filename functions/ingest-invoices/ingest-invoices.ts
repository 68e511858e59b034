import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { type InboxObject, parseInboxKey, receiptKeys } from '../../shared/domain/inbox';
import {
  type AccountRows,
  buildReceipt,
  createQuarantineWriter,
  type IngestSummary,
  parseInvoiceFile,
  type Receipt,
} from '../../shared/ingest';
import type { InvoiceQueue } from '../../shared/ports/invoice-queue';
import type { Deps } from '../../shared/runtime/deps';
import { AccountReadPolicy, addOutcome, applyUnits, emptyOutcome } from './apply-rows';
import { checkpointKeyFor, IngestCheckpoint } from './checkpoint';
import { CustomerPartitions, partitionCountFor, unitsOf } from './customer-partitions';
import { IngestMessage } from './schema';

export type IngestDeps = Pick<Deps, 'clock' | 'logger' | 'tenants' | 'store' | 'blobs'> & {
  /** Where an invocation short of time enqueues the rest of a file; without it a file is ingested in one go. */
  invoiceQueue?: InvoiceQueue;
};

/** A receipt as stored next to the file: the parse and store outcome, plus where and when. */
export type StoredReceipt = Receipt & {
  source: string;
  receiptKey: string;
  completedAt: string;
  created?: number;
  updated?: number;
  /** Invocations the file took, when it took more than one. */
  invocations?: number;
};

/** Tuning of {@link ingestInvoiceFile}; the defaults suit the Lambda and DynamoDB Local alike. */
export interface IngestOptions {
  /** File bytes per customer partition (default 4 MiB): bounds the rows held in memory. */
  partitionBytes?: number;
  /** Rows buffered before partitions are written to disk (default 20,000). */
  maxBufferedRows?: number;
  /** Accounts read, planned and committed together (default 128). */
  unitAccounts?: number;
  /** Units in flight at once (default 3): one's reads overlap another's writes. */
  unitConcurrency?: number;
  /**
   * Accounts are no longer read before planning while at most this share of the recent ones
   * existed (default 0.01; 0 always reads, 1 never reads once warmed up). See AccountReadPolicy.
   */
  skipReadsBelow?: number;
  /** Accounts read before reads may be skipped (default 512). */
  readWarmUpAccounts?: number;
}

const UNIT_ACCOUNTS = 128;
const UNIT_CONCURRENCY = 3;

/** Thrown for a message that is not an inbox invoice event; it goes to the DLQ with this reason. */
export class NotAnInvoiceFileError extends Error {
  override readonly name = 'NotAnInvoiceFileError';
}

const sha256Of = async (body: AsyncIterable<Uint8Array | string>): Promise<string> => {
  const hash = createHash('sha256');
  for await (const chunk of body) hash.update(chunk);
  return hash.digest('hex');
};

const emptySummary = (fileName: string, code: string, reason: string): IngestSummary => ({
  kind: 'summary',
  fileName,
  format: 'csv',
  bytes: 0,
  checksum: null,
  encoding: null,
  delimiter: null,
  rowsRead: 0,
  valid: 0,
  rejected: 0,
  rejects: [],
  rejectsOmitted: 0,
  totals: {},
  duplicateDebtors: [],
  duplicateDebtorsOmitted: 0,
  ignoredColumns: [],
  fileRejection: { code: code as 'empty', reason },
});

/**
 * Ingests one invoice file from the inbox, exactly once, and leaves a receipt next to it.
 *
 * 1. The key names the tenant; an unknown tenant rejects the file whole (receipt says why).
 * 2. A first pass hashes the file. A file already ingested (same checksum, any name) changes
 *    nothing: the receipt says it is a duplicate. Without this check a re-dropped old file would
 *    undo the updates of the files that came after it.
 * 3. The second pass parses, validates and groups rows (streaming), regrouping each customer's
 *    rows of the whole file in partitions on local disk (bounded memory); rejected rows stream
 *    into the quarantine file. Nothing is written to the store yet, so a file rejected whole
 *    late in the read (longer than announced, over the limit) changes nothing.
 * 4. The partitions are applied one after the other: units of accounts, a few at once, each
 *    account with all of its rows in one change (see `applyBatch`).
 * 5. The receipt (and quarantine) is written and the file marked done. A crash before that
 *    leaves the marker "processing": the redelivered message runs the file again, and every row
 *    already applied is found unchanged, so the end state is that of one clean run.
 *
 * A file whose marker is "processing" and that has a checkpoint (see
 * {@link ingestInvoiceFileWithin}) resumes from it. Without a time budget the file is always
 * ingested to its end.
 */
export const ingestInvoiceFile = async (
  deps: IngestDeps,
  object: { bucket: string; key: string; size?: number },
  options: IngestOptions = {},
): Promise<StoredReceipt> => {
  const result = await runIngest(deps, object, options, undefined);
  if (result.kind !== 'done') throw new Error('an ingest without a time budget cannot stop early');
  return result.receipt;
};

/** What an invocation left for the next one: see {@link ingestInvoiceFileWithin}. */
export interface IngestContinued {
  kind: 'continued';
  checkpointKey: string;
  checkpoint: IngestCheckpoint;
  messageId: string;
}

export type IngestResult = { kind: 'done'; receipt: StoredReceipt } | IngestContinued;

/** The time an invocation has, and what it keeps back for finishing its work. */
export interface IngestBudget {
  /** Milliseconds left (Lambda: `context.getRemainingTimeInMillis`). */
  remainingMs: () => number;
  /**
   * A partition is started only while more than this is left (default 180 s): time for the
   * partition itself (some 35,000 rows, about 20 s at 2,000 rows/s), the checkpoint and the
   * message, with room for throttling.
   */
  reserveMs?: number;
}

/** Milliseconds an invocation keeps back before it starts another partition. */
export const DEFAULT_RESERVE_MS = 180_000;

/**
 * {@link ingestInvoiceFile} within a time budget, for a file too large for one invocation.
 * Before each partition (after the first of this invocation, so every invocation makes
 * progress) it checks the time left; when too little is left it stops at that partition
 * boundary, stores a checkpoint next to the receipt (partitions done, counts and totals so far,
 * the store's rejects so far) and enqueues the file's event again. The next invocation parses
 * the file again (rows land in the same partitions), applies the remaining partitions and, at
 * the end, writes the one receipt and quarantine file of the whole file.
 *
 * A crash after the checkpoint and before the message leaves the original message undeleted:
 * its redelivery resumes from the checkpoint. A message delivered twice makes two invocations
 * apply the same partitions: the rows stay exactly once (digests), only the created/updated
 * split of the receipt may then count some rows as already present.
 */
export const ingestInvoiceFileWithin = (
  deps: IngestDeps & { invoiceQueue: InvoiceQueue },
  object: { bucket: string; key: string; size?: number },
  budget: IngestBudget,
  options: IngestOptions = {},
): Promise<IngestResult> => runIngest(deps, object, options, { ...budget, queue: deps.invoiceQueue });

const runIngest = async (
  deps: IngestDeps,
  object: { bucket: string; key: string; size?: number },
  options: IngestOptions,
  budget: (IngestBudget & { queue: InvoiceQueue }) | undefined,
): Promise<IngestResult> => {
  const inbox = parseInboxKey(object.key);
  if (inbox?.kind !== 'invoices')
    throw new NotAnInvoiceFileError(`${object.key} is not an inbox invoice file`);
  const now = () => deps.clock.now().toISOString();
  const checksum = await sha256Of((await deps.blobs.get(object.bucket, object.key)).body);
  const keys = receiptKeys(inbox, checksum);
  const done = (receipt: Promise<StoredReceipt>) =>
    receipt.then((stored): IngestResult => ({ kind: 'done', receipt: stored }));

  if (!deps.tenants.has(inbox.tenantId)) {
    const summary = {
      ...emptySummary(
        inbox.fileName,
        'unknown-tenant',
        `"${inbox.tenantId}" is not a known tenant: the file was not read`,
      ),
      checksum,
    };
    return done(
      writeReceipt(
        deps,
        object,
        inbox,
        keys.receipt,
        buildReceipt({ tenantId: 'unknown', summary, outcome: { applied: 0 } }),
        now(),
      ),
    );
  }
  const tenant = deps.tenants.get(inbox.tenantId);
  const marker = await deps.store.getFileMarker(tenant.tenantId, checksum);
  if (marker && marker.status !== 'processing') {
    const summary = { ...emptySummary(inbox.fileName, 'duplicate', ''), checksum };
    delete summary.fileRejection;
    const receipt = buildReceipt({
      tenantId: tenant.tenantId,
      summary,
      outcome: { applied: 0, duplicateFile: true },
    });
    const duplicateKey = keys.receipt.replace(/\.receipt\.json$/, '.duplicate.receipt.json');
    deps.logger.info('duplicate file', { tenantId: tenant.tenantId, key: object.key, firstKey: marker.key });
    return done(
      writeReceipt(
        deps,
        object,
        inbox,
        duplicateKey,
        { ...receipt, ...{ firstIngestedAs: marker.key, firstReceipt: marker.receiptKey } },
        now(),
      ),
    );
  }
  if (!marker) {
    await deps.store.putFileMarker({
      tenantId: tenant.tenantId,
      sha256: checksum,
      key: object.key,
      status: 'processing',
      firstSeenAt: now(),
    });
  }
  const checkpointKey = checkpointKeyFor(keys.receipt);
  const resumed = marker ? await readCheckpoint(deps, object.bucket, checkpointKey, checksum) : undefined;

  const workDir = await mkdtemp(join(tmpdir(), 'arrears-ingest-'));
  const quarantinePath = join(workDir, 'quarantine.csv');
  const quarantineFile = createWriteStream(quarantinePath);
  const quarantine = createQuarantineWriter((text) => quarantineFile.write(text));
  const outcome = emptyOutcome();
  if (resumed) addOutcome(outcome, { ...resumed, rejects: [...resumed.rejects] });
  let summary: IngestSummary | undefined;
  try {
    // 1. Parse the whole file first, regrouping its rows per customer (see CustomerPartitions).
    const file = await deps.blobs.get(object.bucket, object.key);
    const partitions = new CustomerPartitions({
      count: resumed?.partitions ?? partitionCountFor(file.size ?? object.size, options.partitionBytes),
      dir: workDir,
      from: resumed?.nextPartition ?? 0,
      ...(options.maxBufferedRows ? { maxBufferedRows: options.maxBufferedRows } : {}),
    });
    for await (const event of parseInvoiceFile(
      { body: file.body, size: file.size, fileName: inbox.fileName, format: tenant.invoices },
      { onReject: (reject) => quarantine.onReject(reject) },
    )) {
      if (event.kind === 'summary') {
        summary = event;
        break;
      }
      await partitions.add(event.accounts);
    }
    if (!summary) throw new Error(`${object.key}: the parser ended without a summary`);
    if (summary.checksum && summary.checksum !== checksum) {
      throw new Error(`${object.key} changed while it was read (checksum ${summary.checksum} ≠ ${checksum})`);
    }
    // 2. Only a file that was read whole and accepted changes anything.
    if (!summary.fileRejection) {
      let stoppedAt: number | undefined;
      const mayStart = (index: number): boolean => {
        if (!budget || index === partitions.from) return true;
        if (budget.remainingMs() > (budget.reserveMs ?? DEFAULT_RESERVE_MS)) return true;
        stoppedAt = index;
        return false;
      };
      const units = unitsOfPartitions(partitions, options.unitAccounts ?? UNIT_ACCOUNTS, mayStart);
      addOutcome(
        outcome,
        await applyUnits(deps.store, units, {
          tenantId: tenant.tenantId,
          sourceFile: object.key,
          now: () => deps.clock.now(),
          concurrency: options.unitConcurrency ?? UNIT_CONCURRENCY,
          reads: new AccountReadPolicy(options.skipReadsBelow, options.readWarmUpAccounts),
        }),
      );
      if (budget && stoppedAt !== undefined) {
        const checkpoint: IngestCheckpoint = {
          checksum,
          partitions: partitions.count,
          nextPartition: stoppedAt,
          applied: outcome.applied,
          created: outcome.created,
          updated: outcome.updated,
          totals: outcome.totals,
          rejects: outcome.rejects,
          invocations: (resumed?.invocations ?? 0) + 1,
          savedAt: now(),
        };
        await deps.blobs.put(
          object.bucket,
          checkpointKey,
          `${JSON.stringify(checkpoint)}\n`,
          'application/json',
        );
        const messageId = await budget.queue.requeue(object);
        deps.logger.info('invoice file continues in another invocation', {
          tenantId: tenant.tenantId,
          key: object.key,
          nextPartition: stoppedAt,
          partitions: partitions.count,
          applied: outcome.applied,
          messageId,
        });
        return { kind: 'continued', checkpointKey, checkpoint, messageId };
      }
      for (const reject of outcome.rejects) quarantine.onReject(reject);
    }
    await new Promise<void>((resolve, reject) =>
      quarantineFile.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
    const quarantineKey = quarantine.count > 0 ? keys.quarantine : undefined;
    if (quarantineKey)
      await deps.blobs.putFile(object.bucket, quarantineKey, quarantinePath, 'text/csv; charset=utf-8');
    const receipt = buildReceipt({
      tenantId: tenant.tenantId,
      summary,
      outcome: { applied: outcome.applied, rejects: outcome.rejects, totals: outcome.totals },
      ...(quarantineKey ? { quarantineKey } : {}),
    });
    const stored = await writeReceipt(
      deps,
      object,
      inbox,
      keys.receipt,
      {
        ...receipt,
        created: outcome.created,
        updated: outcome.updated,
        ...(resumed ? { invocations: resumed.invocations + 1 } : {}),
      },
      now(),
    );
    await deps.store.completeFileMarker(tenant.tenantId, checksum, {
      status: summary.fileRejection ? 'rejected' : 'done',
      completedAt: stored.completedAt,
      receiptKey: keys.receipt,
    });
    deps.logger.info('invoice file ingested', {
      tenantId: tenant.tenantId,
      key: object.key,
      rowsRead: receipt.rowsRead,
      applied: receipt.applied,
      rejected: receipt.rejected,
    });
    return { kind: 'done', receipt: stored };
  } finally {
    quarantineFile.destroy();
    await rm(workDir, { recursive: true, force: true });
  }
};

/** The checkpoint of this file, if an earlier invocation left one. */
const readCheckpoint = async (
  deps: IngestDeps,
  bucket: string,
  key: string,
  checksum: string,
): Promise<IngestCheckpoint | undefined> => {
  if (!(await deps.blobs.exists(bucket, key))) return undefined;
  const { body } = await deps.blobs.get(bucket, key);
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk as Uint8Array));
  const checkpoint = IngestCheckpoint.parse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
  return checkpoint.checksum === checksum ? checkpoint : undefined;
};

/** Units of accounts to apply, partition after partition (a partition is read when needed). */
async function* unitsOfPartitions(
  partitions: CustomerPartitions,
  unitAccounts: number,
  mayStart: (index: number) => boolean,
): AsyncGenerator<AccountRows[]> {
  for await (const { accounts } of partitions.partitions(mayStart)) yield* unitsOf(accounts, unitAccounts);
}

const writeReceipt = async (
  deps: IngestDeps,
  object: { bucket: string; key: string },
  _inbox: InboxObject,
  receiptKey: string,
  receipt: Receipt & Record<string, unknown>,
  completedAt: string,
): Promise<StoredReceipt> => {
  const stored = { ...receipt, source: object.key, receiptKey, completedAt } as StoredReceipt;
  await deps.blobs.put(object.bucket, receiptKey, `${JSON.stringify(stored, null, 2)}\n`, 'application/json');
  return stored;
};

const processor = new BatchProcessor(EventType.SQS);

export const makeHandler = (deps: IngestDeps, options: IngestOptions = {}) => {
  const processRecord = async (record: SQSRecord, context?: Context): Promise<void> => {
    const message = IngestMessage.parse(JSON.parse(record.body));
    const object = {
      bucket: message.detail.bucket.name,
      key: message.detail.object.key,
      ...(message.detail.object.size === undefined ? {} : { size: message.detail.object.size }),
    };
    const { invoiceQueue } = deps;
    if (invoiceQueue && context) {
      await ingestInvoiceFileWithin(
        { ...deps, invoiceQueue },
        object,
        { remainingMs: () => context.getRemainingTimeInMillis() },
        options,
      );
    } else {
      await ingestInvoiceFile(deps, object, options);
    }
  };
  return middy<SQSEvent, SQSBatchResponse>()
    .use(injectLambdaContext(deps.logger))
    .handler(async (event, context) => processPartialResponse(event, processRecord, processor, { context }));
};
