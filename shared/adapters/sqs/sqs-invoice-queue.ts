import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { InvoiceQueue } from '../../ports/invoice-queue';

/**
 * InvoiceQueue over the standard SQS queue that EventBridge feeds with the inbox's "Object
 * Created" events; a message it sends has the same shape, so ingest-invoices reads both alike.
 */
export class SqsInvoiceQueue implements InvoiceQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async requeue(object: { bucket: string; key: string; size?: number }): Promise<string> {
    const event = {
      'detail-type': 'Object Created',
      source: 'aws.s3',
      detail: {
        bucket: { name: object.bucket },
        object: { key: object.key, ...(object.size === undefined ? {} : { size: object.size }) },
      },
    };
    const response = await this.client.send(
      new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify(event) }),
    );
    if (!response.MessageId) throw new Error('SQS accepted the continuation but returned no message id');
    return response.MessageId;
  }
}
