import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateInvoiceCsv } from '../../bench/generate-invoices';
import { ingestInvoiceFile, makeHandler } from '../../functions/ingest-invoices/ingest-invoices';
import { lambdaContext } from '../../infra/local/lambda-context';
import type { AccountStore } from '../../shared/ports/account-store';
import { BUCKET, endState, type LocalStack, startLocalStack } from '../support/local-stack';

const generated = (rows: number) =>
  [...generateInvoiceCsv(rows, { seed: 7, invoicesPerCustomer: 4 })].join('');

describe('ingest-invoices against DynamoDB Local and local S3', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const depsWith = (store: AccountStore) => ({ ...stack, store });

  it('reaches the end state of one clean run after a crash halfway through a file', async () => {
    const key = 'inbox/globex/invoices/big.csv';
    await stack.blobs.put(BUCKET, key, generated(2_400), 'text/csv');

    const clean = await stack.freshStore();
    const cleanReceipt = await ingestInvoiceFile(depsWith(clean), { bucket: BUCKET, key });
    expect(cleanReceipt).toMatchObject({ rowsRead: 2_400, rejected: 0, applied: 2_400 });

    const crashing = await stack.freshStore();
    let commits = 0;
    // The real store, except that its third batch commit dies as a killed Lambda would.
    const failingMidFile = new Proxy(crashing, {
      get(target, property) {
        if (property === 'commitMany') {
          return async (...args: Parameters<AccountStore['commitMany']>) => {
            commits += 1;
            if (commits === 3) throw new Error('injected: the function was killed mid-file');
            return target.commitMany(...args);
          };
        }
        const value = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    await expect(ingestInvoiceFile(depsWith(failingMidFile), { bucket: BUCKET, key })).rejects.toThrow(
      'injected',
    );
    const partial = await endState(crashing, 'globex');
    expect(Object.keys(partial).length).toBeGreaterThan(0);
    expect(Object.keys(partial).length).toBeLessThan(Object.keys(await endState(clean, 'globex')).length);

    const rerun = await ingestInvoiceFile(depsWith(crashing), { bucket: BUCKET, key });
    expect(rerun).toMatchObject({
      rowsRead: 2_400,
      applied: 2_400,
      rejected: 0,
      duplicateFile: false,
      totals: cleanReceipt.totals,
    });
    expect(await endState(crashing, 'globex')).toEqual(await endState(clean, 'globex'));
  });

  it('updates known accounts alike whether they were read first or found by a failed "new account" condition', async () => {
    const first = generated(400);
    // The same rows with every amount changed: each row updates an invoice of a known account.
    const [header, ...rows] = first.trimEnd().split('\r\n');
    const second = `${[header, ...rows.map((row) => row.replace(/,(-?[0-9.]+),(\d{4}-)/, ',100,$2'))].join('\r\n')}\r\n`;
    await stack.blobs.put(BUCKET, 'inbox/globex/invoices/first.csv', first, 'text/csv');
    await stack.blobs.put(BUCKET, 'inbox/globex/invoices/second.csv', second, 'text/csv');

    const run = async (options: Parameters<typeof ingestInvoiceFile>[2]) => {
      const store = await stack.freshStore();
      await ingestInvoiceFile(depsWith(store), { bucket: BUCKET, key: 'inbox/globex/invoices/first.csv' });
      const receipt = await ingestInvoiceFile(
        depsWith(store),
        { bucket: BUCKET, key: 'inbox/globex/invoices/second.csv' },
        options,
      );
      return { receipt, state: await endState(store, 'globex') };
    };
    const reading = await run({ skipReadsBelow: 0 });
    const skipping = await run({ skipReadsBelow: 1, readWarmUpAccounts: 0 });

    expect(reading.receipt).toMatchObject({ rowsRead: 400, applied: 400, rejected: 0 });
    expect(skipping.receipt).toMatchObject({ applied: 400, rejected: 0, totals: reading.receipt.totals });
    expect(skipping.state).toEqual(reading.state);
    const amounts = Object.values(skipping.state).flatMap((account) =>
      (account as { invoices: { amount: number; currency: string }[] }).invoices.map((invoice) =>
        invoice.currency === 'JPY' ? invoice.amount : invoice.amount / 100,
      ),
    );
    expect(new Set(amounts)).toEqual(new Set([100]));
  });

  it('treats a redelivered event as the duplicate it is and changes nothing', async () => {
    const store = await stack.freshStore();
    const key = 'inbox/globex/invoices/small.csv';
    await stack.blobs.put(BUCKET, key, generated(50), 'text/csv');
    await ingestInvoiceFile(depsWith(store), { bucket: BUCKET, key });
    const before = await endState(store, 'globex');
    const again = await ingestInvoiceFile(depsWith(store), { bucket: BUCKET, key });
    expect(again).toMatchObject({ duplicateFile: true, applied: 0, rowsRead: 0 });
    expect(await endState(store, 'globex')).toEqual(before);
  });

  it('rejects a file whole, with a receipt saying why, for an unknown tenant or binary content', async () => {
    const store = await stack.freshStore();
    await stack.blobs.put(BUCKET, 'inbox/nobody/invoices/a.csv', 'customerId\nx\n', 'text/csv');
    const unknown = await ingestInvoiceFile(depsWith(store), {
      bucket: BUCKET,
      key: 'inbox/nobody/invoices/a.csv',
    });
    expect(unknown.fileRejection).toMatchObject({ code: 'unknown-tenant' });
    expect(await stack.blobs.exists(BUCKET, unknown.receiptKey)).toBe(true);

    await stack.blobs.put(
      BUCKET,
      'inbox/globex/invoices/photo.csv',
      new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 0, 1, 2]),
      'text/csv',
    );
    const binary = await ingestInvoiceFile(depsWith(store), {
      bucket: BUCKET,
      key: 'inbox/globex/invoices/photo.csv',
    });
    expect(binary).toMatchObject({ rowsRead: 0, applied: 0, fileRejection: { code: 'binary' } });
    expect(await endState(store, 'globex')).toEqual({});
  });

  it('reports only the failed message of an SQS batch', async () => {
    const store = await stack.freshStore();
    const key = 'inbox/globex/invoices/ok.csv';
    await stack.blobs.put(BUCKET, key, generated(10), 'text/csv');
    const handler = makeHandler(depsWith(store));
    const event = {
      Records: [
        {
          messageId: 'good',
          body: JSON.stringify({
            'detail-type': 'Object Created',
            source: 'aws.s3',
            detail: { bucket: { name: BUCKET }, object: { key } },
          }),
        },
        { messageId: 'poison', body: '{"not":"an s3 event"}' },
      ],
    } as unknown as SQSEvent;
    const response = await handler(event, lambdaContext('ingest-invoices'));
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'poison' }] });
    expect(Object.keys(await endState(store, 'globex')).length).toBeGreaterThan(0);
  });
});
