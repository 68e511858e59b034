import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { type InboxObject, parseInboxKey, receiptKeys } from '../../shared/domain/inbox';
import {
  buildReceipt,
  createQuarantineWriter,
  type IngestSummary,
  parseInvoiceFile,
  type Receipt,
  type RowReject,
  totalsOf,
} from '../../shared/ingest';
import type { Deps } from '../../shared/runtime/deps';
import { type AppliedBatch, applyBatch } from './apply-rows';
import { IngestMessage } from './schema';

export type IngestDeps = Pick<Deps, 'clock' | 'logger' | 'tenants' | 'store' | 'blobs'>;

/** A receipt as stored next to the file: the parse and store outcome, plus where and when. */
export type StoredReceipt = Receipt & {
  source: string;
  receiptKey: string;
  completedAt: string;
  created?: number;
  updated?: number;
};

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
 * 3. The second pass parses, validates and groups rows (streaming), applying each batch as it
 *    comes; rejected rows stream into the quarantine file.
 * 4. The receipt (and quarantine) is written and the file marked done. A crash before that
 *    leaves the marker "processing": the redelivered message runs the file again, and every row
 *    already applied is found unchanged, so the end state is that of one clean run.
 */
export const ingestInvoiceFile = async (
  deps: IngestDeps,
  object: { bucket: string; key: string; size?: number },
): Promise<StoredReceipt> => {
  const inbox = parseInboxKey(object.key);
  if (!inbox || inbox.kind !== 'invoices')
    throw new NotAnInvoiceFileError(`${object.key} is not an inbox invoice file`);
  const now = () => deps.clock.now().toISOString();
  const checksum = await sha256Of((await deps.blobs.get(object.bucket, object.key)).body);
  const keys = receiptKeys(inbox, checksum);

  if (!deps.tenants.has(inbox.tenantId)) {
    const summary = {
      ...emptySummary(
        inbox.fileName,
        'unknown-tenant',
        `"${inbox.tenantId}" is not a known tenant: the file was not read`,
      ),
      checksum,
    };
    return writeReceipt(
      deps,
      object,
      inbox,
      keys.receipt,
      buildReceipt({ tenantId: 'unknown', summary, outcome: { applied: 0 } }),
      now(),
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
    return writeReceipt(
      deps,
      object,
      inbox,
      duplicateKey,
      { ...receipt, ...{ firstIngestedAs: marker.key, firstReceipt: marker.receiptKey } },
      now(),
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

  const workDir = await mkdtemp(join(tmpdir(), 'arrears-quarantine-'));
  const quarantinePath = join(workDir, 'quarantine.csv');
  const quarantineFile = createWriteStream(quarantinePath);
  const quarantine = createQuarantineWriter((text) => quarantineFile.write(text));
  const storeRejects: RowReject[] = [];
  const applied: AppliedBatch['appliedRows'] = [];
  let appliedCount = 0;
  let created = 0;
  let updated = 0;
  let summary: IngestSummary | undefined;
  try {
    const file = await deps.blobs.get(object.bucket, object.key);
    for await (const event of parseInvoiceFile(
      { body: file.body, size: file.size, fileName: inbox.fileName, format: tenant.invoices },
      { onReject: (reject) => quarantine.onReject(reject) },
    )) {
      if (event.kind === 'summary') {
        summary = event;
        break;
      }
      const outcome = await applyBatch(deps.store, {
        tenantId: tenant.tenantId,
        sourceFile: object.key,
        now: deps.clock.now(),
        accounts: event.accounts,
      });
      appliedCount += outcome.applied;
      created += outcome.created;
      updated += outcome.updated;
      applied.push(...outcome.appliedRows);
      for (const reject of outcome.rejects) {
        storeRejects.push(reject);
        quarantine.onReject(reject);
      }
    }
    await new Promise<void>((resolve, reject) =>
      quarantineFile.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
    if (!summary) throw new Error(`${object.key}: the parser ended without a summary`);
    if (summary.checksum && summary.checksum !== checksum) {
      throw new Error(`${object.key} changed while it was read (checksum ${summary.checksum} ≠ ${checksum})`);
    }
    const quarantineKey = quarantine.count > 0 ? keys.quarantine : undefined;
    if (quarantineKey)
      await deps.blobs.putFile(object.bucket, quarantineKey, quarantinePath, 'text/csv; charset=utf-8');
    const receipt = buildReceipt({
      tenantId: tenant.tenantId,
      summary,
      outcome: { applied: appliedCount, rejects: storeRejects, totals: totalsOf(applied) },
      ...(quarantineKey ? { quarantineKey } : {}),
    });
    const stored = await writeReceipt(
      deps,
      object,
      inbox,
      keys.receipt,
      { ...receipt, created, updated },
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
    return stored;
  } finally {
    quarantineFile.destroy();
    await rm(workDir, { recursive: true, force: true });
  }
};

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

export const makeHandler = (deps: IngestDeps) => {
  const processRecord = async (record: SQSRecord): Promise<void> => {
    const message = IngestMessage.parse(JSON.parse(record.body));
    await ingestInvoiceFile(deps, {
      bucket: message.detail.bucket.name,
      key: message.detail.object.key,
      ...(message.detail.object.size === undefined ? {} : { size: message.detail.object.size }),
    });
  };
  return middy<SQSEvent, SQSBatchResponse>()
    .use(injectLambdaContext(deps.logger))
    .handler(async (event, context) => processPartialResponse(event, processRecord, processor, { context }));
};
