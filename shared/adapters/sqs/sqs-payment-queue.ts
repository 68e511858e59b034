import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Payment } from '../../domain/account';
import type { PaymentQueue } from '../../ports/payment-queue';

/** PaymentQueue over a standard SQS queue; the message body is the payment as JSON. */
export class SqsPaymentQueue implements PaymentQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async enqueue(payment: Payment): Promise<string> {
    const response = await this.client.send(
      new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify(payment) }),
    );
    if (!response.MessageId) throw new Error('SQS accepted the payment but returned no message id');
    return response.MessageId;
  }
}
