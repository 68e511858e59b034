import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalQueue } from '../../../infra/local/local-queue';

describe('LocalQueue', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'arrears-queue-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('redelivers a failed message and moves it to the DLQ with its reason after maxReceiveCount', async () => {
    const queue = await LocalQueue.open(dir, 'invoices', 3);
    await queue.send('poison');
    await queue.send('fine');
    const seen: string[] = [];
    const result = await queue.drain(async (event) => {
      const record = event.Records[0]!;
      seen.push(record.body);
      if (record.body === 'poison') throw new Error('cannot parse the message');
      return { batchItemFailures: [] };
    });
    expect(result).toEqual({ delivered: 4, deadLettered: 1 });
    expect(seen).toEqual(['poison', 'fine', 'poison', 'poison']);
    const dlq = (await readFile(join(dir, 'queues', 'invoices-dlq.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(dlq).toEqual([
      expect.objectContaining({ body: 'poison', receiveCount: 3, reason: 'Error: cannot parse the message' }),
    ]);
    expect(queue.depth).toBe(0);
  });

  it('counts a reported batch item failure as a failed receive', async () => {
    const queue = await LocalQueue.open(dir, 'payments', 2);
    await queue.send('flaky');
    let calls = 0;
    await queue.drain(async (event) => {
      calls += 1;
      return { batchItemFailures: calls === 1 ? [{ itemIdentifier: event.Records[0]!.messageId }] : [] };
    });
    expect(calls).toBe(2);
  });

  it('keeps pending messages for the next process', async () => {
    const first = await LocalQueue.open(dir, 'invoices');
    await first.send('waiting');
    const second = await LocalQueue.open(dir, 'invoices');
    expect(second.depth).toBe(1);
  });
});
