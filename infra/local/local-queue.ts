import { randomUUID } from 'node:crypto';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

interface QueuedMessage {
  messageId: string;
  body: string;
  receiveCount: number;
  firstSentAt: string;
}

export type SqsConsumer = (event: SQSEvent) => Promise<SQSBatchResponse | undefined>;

/**
 * Plays an SQS queue with a dead-letter queue for one consumer, as the stack wires them: batch
 * size 1, partial batch failures, and after `maxReceiveCount` failed receives the message moves
 * to the DLQ (a JSON Lines file in the data folder, with the error that sent it there).
 * Pending messages are kept in the data folder, so a message is not lost between CLI runs.
 */
export class LocalQueue {
  #messages: QueuedMessage[] = [];

  private constructor(
    readonly name: string,
    private readonly file: string,
    private readonly dlqFile: string,
    private readonly maxReceiveCount: number,
  ) {}

  static async open(dataDir: string, name: string, maxReceiveCount = 5): Promise<LocalQueue> {
    const dir = join(dataDir, 'queues');
    await mkdir(dir, { recursive: true });
    const queue = new LocalQueue(
      name,
      join(dir, `${name}.json`),
      join(dir, `${name}-dlq.jsonl`),
      maxReceiveCount,
    );
    try {
      queue.#messages = JSON.parse(await readFile(queue.file, 'utf8')) as QueuedMessage[];
    } catch {
      queue.#messages = [];
    }
    return queue;
  }

  get depth(): number {
    return this.#messages.length;
  }

  async send(body: string): Promise<void> {
    this.#messages.push({
      messageId: randomUUID(),
      body,
      receiveCount: 0,
      firstSentAt: new Date().toISOString(),
    });
    await this.#save();
  }

  /** Delivers every message (and redeliveries) to the consumer until the queue is empty. */
  async drain(consumer: SqsConsumer): Promise<{ delivered: number; deadLettered: number }> {
    let delivered = 0;
    let deadLettered = 0;
    for (let message = this.#messages.shift(); message; message = this.#messages.shift()) {
      message.receiveCount += 1;
      delivered += 1;
      let failure: string | undefined;
      try {
        const response = await consumer({ Records: [toRecord(this.name, message)] });
        if (response?.batchItemFailures?.some((item) => item.itemIdentifier === message.messageId)) {
          failure = 'the consumer reported the message as failed';
        }
      } catch (error) {
        failure = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      }
      if (failure !== undefined) {
        if (message.receiveCount >= this.maxReceiveCount) {
          deadLettered += 1;
          await appendFile(this.dlqFile, `${JSON.stringify({ ...message, reason: failure })}\n`);
        } else {
          this.#messages.push(message);
        }
      }
      await this.#save();
    }
    return { delivered, deadLettered };
  }

  async #save(): Promise<void> {
    await writeFile(this.file, JSON.stringify(this.#messages));
  }
}

const toRecord = (queueName: string, message: QueuedMessage): SQSRecord => ({
  messageId: message.messageId,
  receiptHandle: message.messageId,
  body: message.body,
  attributes: {
    ApproximateReceiveCount: String(message.receiveCount),
    SentTimestamp: String(Date.parse(message.firstSentAt)),
    SenderId: 'local',
    ApproximateFirstReceiveTimestamp: String(Date.parse(message.firstSentAt)),
  },
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: `arn:aws:sqs:us-east-1:000000000000:${queueName}`,
  awsRegion: 'us-east-1',
});
