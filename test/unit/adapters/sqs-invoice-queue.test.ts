import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { IngestMessage } from '../../../functions/ingest-invoices/schema';
import { SqsInvoiceQueue } from '../../../shared/adapters/sqs/sqs-invoice-queue';

const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/000000000000/arrears-invoices';
const sqs = mockClient(SQSClient);

beforeEach(() => {
  sqs.reset();
});

describe('SqsInvoiceQueue', () => {
  it('enqueues the inbox event again in the shape the ingest reads from EventBridge', async () => {
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
    const queue = new SqsInvoiceQueue(new SQSClient({ region: 'eu-west-1' }), QUEUE_URL);

    const id = await queue.requeue({
      bucket: 'inbox',
      key: 'inbox/acme/invoices/big.csv',
      size: 120_000_000,
    });

    expect(id).toBe('m-1');
    const input = sqs.commandCalls(SendMessageCommand)[0]?.args[0].input;
    expect(input?.QueueUrl).toBe(QUEUE_URL);
    expect(IngestMessage.parse(JSON.parse(input?.MessageBody ?? ''))).toEqual({
      'detail-type': 'Object Created',
      source: 'aws.s3',
      detail: {
        bucket: { name: 'inbox' },
        object: { key: 'inbox/acme/invoices/big.csv', size: 120_000_000 },
      },
    });
  });

  it('leaves out a size it was not given', async () => {
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm-2' });
    await new SqsInvoiceQueue(new SQSClient({ region: 'eu-west-1' }), QUEUE_URL).requeue({
      bucket: 'inbox',
      key: 'inbox/acme/invoices/a.csv',
    });
    const body = JSON.parse(sqs.commandCalls(SendMessageCommand)[0]?.args[0].input.MessageBody ?? '');
    expect(body.detail.object).toEqual({ key: 'inbox/acme/invoices/a.csv' });
  });

  it('fails when SQS returns no message id', async () => {
    sqs.on(SendMessageCommand).resolves({});
    await expect(
      new SqsInvoiceQueue(new SQSClient({ region: 'eu-west-1' }), QUEUE_URL).requeue({
        bucket: 'b',
        key: 'k',
      }),
    ).rejects.toThrow(/no message id/);
  });
});
