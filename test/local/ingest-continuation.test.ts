import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateInvoiceCsv } from '../../bench/generate-invoices';
import { checkpointKeyFor } from '../../functions/ingest-invoices/checkpoint';
import { partitionCountFor } from '../../functions/ingest-invoices/customer-partitions';
import {
  type IngestResult,
  ingestInvoiceFile,
  ingestInvoiceFileWithin,
  makeHandler,
} from '../../functions/ingest-invoices/ingest-invoices';
import { lambdaContext } from '../../infra/local/lambda-context';
import type { AccountStore } from '../../shared/ports/account-store';
import type { InvoiceQueue } from '../../shared/ports/invoice-queue';
import { BUCKET, endState, type LocalStack, startLocalStack } from '../support/local-stack';

const csv = [...generateInvoiceCsv(1_200, { seed: 11, invoicesPerCustomer: 4 })].join('');
/** Small partitions, so a small file spans several of them as a large one would. */
const OPTIONS = { partitionBytes: 30_000 };
const PARTITIONS = partitionCountFor(Buffer.byteLength(csv), OPTIONS.partitionBytes);

const recordingQueue = () => {
  const sent: { bucket: string; key: string }[] = [];
  const queue: InvoiceQueue = {
    requeue: async (object) => {
      sent.push(object);
      return `message-${sent.length}`;
    },
  };
  return { queue, sent };
};

describe('ingest of a file too large for one invocation', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('continues through checkpoints and ends in the state and receipt of one clean run', async () => {
    expect(PARTITIONS).toBeGreaterThanOrEqual(4);
    const key = 'inbox/globex/invoices/large.csv';
    await stack.blobs.put(BUCKET, key, csv, 'text/csv');
    const clean = await stack.freshStore();
    const cleanReceipt = await ingestInvoiceFile(
      { ...stack, store: clean },
      { bucket: BUCKET, key },
      OPTIONS,
    );

    const store = await stack.freshStore();
    const { queue, sent } = recordingQueue();
    // Every invocation has time for its first partition and one more, then runs short.
    const invocation = () => {
      let asked = 0;
      return { remainingMs: () => (asked++ === 0 ? 600_000 : 1_000), reserveMs: 5_000 };
    };
    const results: IngestResult[] = [];
    for (let run = 0; run < PARTITIONS && results.at(-1)?.kind !== 'done'; run++) {
      results.push(
        await ingestInvoiceFileWithin(
          { ...stack, store, invoiceQueue: queue },
          { bucket: BUCKET, key },
          invocation(),
          OPTIONS,
        ),
      );
    }

    const invocations = Math.ceil(PARTITIONS / 2);
    expect(results.map((result) => result.kind)).toEqual([
      ...new Array(invocations - 1).fill('continued'),
      'done',
    ]);
    expect(sent).toEqual(new Array(invocations - 1).fill({ bucket: BUCKET, key }));
    const first = results[0]!;
    expect(first.kind === 'continued' && first.checkpoint).toMatchObject({
      partitions: PARTITIONS,
      nextPartition: 2,
      invocations: 1,
    });
    const last = results.at(-1)!;
    expect(last.kind === 'done' && last.receipt).toMatchObject({
      rowsRead: cleanReceipt.rowsRead,
      applied: cleanReceipt.applied,
      rejected: 0,
      totals: cleanReceipt.totals,
      created: cleanReceipt.created,
      invocations,
    });
    expect(await endState(store, 'globex')).toEqual(await endState(clean, 'globex'));
  });

  it('resumes from the checkpoint when the invocation after it died, and applies nothing twice', async () => {
    const key = 'inbox/globex/invoices/resumed.csv';
    await stack.blobs.put(BUCKET, key, csv, 'text/csv');
    const store = await stack.freshStore();
    const { queue } = recordingQueue();
    // Short of time from the start: only the first partition is applied.
    const stopped = await ingestInvoiceFileWithin(
      { ...stack, store, invoiceQueue: queue },
      { bucket: BUCKET, key },
      { remainingMs: () => 1_000, reserveMs: 5_000 },
      OPTIONS,
    );
    expect(stopped.kind).toBe('continued');
    expect(await stack.blobs.exists(BUCKET, stopped.kind === 'continued' ? stopped.checkpointKey : '')).toBe(
      true,
    );

    // The next invocation dies on its second commit; the redelivered message resumes again.
    let commits = 0;
    const dying = new Proxy(store, {
      get(target, property) {
        if (property === 'commitMany') {
          return async (...args: Parameters<AccountStore['commitMany']>) => {
            commits += 1;
            if (commits === 2) throw new Error('injected: the function was killed');
            return target.commitMany(...args);
          };
        }
        const value = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    await expect(
      ingestInvoiceFile({ ...stack, store: dying }, { bucket: BUCKET, key }, OPTIONS),
    ).rejects.toThrow('injected');
    const receipt = await ingestInvoiceFile({ ...stack, store }, { bucket: BUCKET, key }, OPTIONS);

    expect(receipt).toMatchObject({ rowsRead: 1_200, applied: 1_200, rejected: 0, invocations: 2 });
    const accounts = Object.values(await endState(store, 'globex')) as { invoices: unknown[] }[];
    expect(accounts.reduce((sum, account) => sum + account.invoices.length, 0)).toBe(1_200);
  });

  it('lets the handler hand the rest of the file on when the Lambda runs short of time', async () => {
    const key = 'inbox/globex/invoices/handler.csv';
    await stack.blobs.put(BUCKET, key, csv, 'text/csv');
    const store = await stack.freshStore();
    const { queue, sent } = recordingQueue();
    const handler = makeHandler({ ...stack, store, invoiceQueue: queue }, OPTIONS);
    const body = JSON.stringify({
      'detail-type': 'Object Created',
      source: 'aws.s3',
      detail: { bucket: { name: BUCKET }, object: { key } },
    });
    // Ten seconds left: less than the three minutes kept back before another partition.
    const response = await handler(
      { Records: [{ messageId: 'big', body }] } as unknown as SQSEvent,
      lambdaContext('ingest-invoices', 10_000),
    );

    expect(response).toEqual({ batchItemFailures: [] });
    expect(sent).toEqual([{ bucket: BUCKET, key }]);
    const written: string[] = [];
    for await (const name of stack.blobs.list(BUCKET, 'receipts/globex/invoices/handler.csv'))
      written.push(name);
    expect(written).toHaveLength(1);
    expect(written[0]).toBe(checkpointKeyFor(written[0]!.replace(/\.checkpoint\.json$/, '.receipt.json')));
  });
});
