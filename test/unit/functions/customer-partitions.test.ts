import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CustomerPartitions,
  groupByCustomer,
  MAX_PARTITIONS,
  partitionCountFor,
  partitionOf,
  unitsOf,
} from '../../../functions/ingest-invoices/customer-partitions';
import type { AccountRows, InvoiceRow } from '../../../shared/ingest';

const aRow = (line: number, customerId: string, overrides: Partial<InvoiceRow> = {}): InvoiceRow => ({
  line,
  customerId,
  contact: { name: `Customer ${customerId}`, email: `${customerId.toLowerCase()}@example.com` },
  invoiceId: `INV-${line}`,
  kind: 'invoice',
  status: 'open',
  currency: 'EUR',
  amount: 100 * line,
  issueDate: '2026-01-01',
  dueDate: '2026-02-01',
  referenceStructured: false,
  ...overrides,
});

/** What the parser hands over: a batch grouped per customer. */
const batchOf = (rows: InvoiceRow[]): AccountRows[] => groupByCustomer(rows);

const collect = async (partitions: CustomerPartitions) => {
  const result: { index: number; accounts: AccountRows[] }[] = [];
  for await (const partition of partitions.partitions()) result.push(partition);
  return result;
};

describe('CustomerPartitions', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'partitions-test-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("brings each customer's rows of the whole file together, in file order, with the last row's contact", async () => {
    const partitions = new CustomerPartitions({ count: 1, dir });
    await partitions.add(batchOf([aRow(2, 'A'), aRow(3, 'B'), aRow(4, 'A')]));
    await partitions.add(
      batchOf([aRow(5, 'C'), aRow(6, 'A', { contact: { name: 'A renamed' } }), aRow(7, 'B')]),
    );

    const [only] = await collect(partitions);

    expect(only?.accounts.map((group) => [group.customerId, group.rows.map((row) => row.line)])).toEqual([
      ['A', [2, 4, 6]],
      ['B', [3, 7]],
      ['C', [5]],
    ]);
    expect(only?.accounts[0]?.contact).toEqual({ name: 'A renamed' });
    expect(await readdir(dir)).toEqual([]);
  });

  it('writes rows to disk past the buffer limit and reads them back unchanged, each customer in one partition', async () => {
    const customers = Array.from({ length: 40 }, (_, i) => `C-${i}`);
    const rows = Array.from({ length: 400 }, (_, i) =>
      aRow(i + 2, customers[(i * 7) % customers.length]!, i % 3 === 0 ? { reference: `Order ${i}` } : {}),
    );
    const partitions = new CustomerPartitions({ count: 5, dir, maxBufferedRows: 64 });
    for (let i = 0; i < rows.length; i += 50) await partitions.add(batchOf(rows.slice(i, i + 50)));

    const read = await collect(partitions);

    expect((await readdir(dir)).length).toBeGreaterThan(0);
    expect(partitions.rows).toBe(400);
    expect(read.map((partition) => partition.index)).toEqual([0, 1, 2, 3, 4]);
    const seen = new Map<string, number>();
    for (const { index, accounts } of read) {
      for (const group of accounts) {
        expect(seen.has(group.customerId)).toBe(false);
        seen.set(group.customerId, index);
        expect(index).toBe(partitionOf(group.customerId, 5));
        expect(group.rows).toEqual(rows.filter((row) => row.customerId === group.customerId));
      }
    }
    expect(seen.size).toBe(40);
  });

  it('leaves out the partitions a continuation has applied, and stops where it is told to', async () => {
    const rows = Array.from({ length: 60 }, (_, i) => aRow(i + 2, `C-${i % 12}`));
    const partitions = new CustomerPartitions({ count: 4, dir, from: 2 });
    await partitions.add(batchOf(rows));

    const read: number[] = [];
    for await (const { index, accounts } of partitions.partitions((index) => index < 3)) {
      read.push(index);
      for (const group of accounts) expect(partitionOf(group.customerId, 4)).toBe(index);
    }

    expect(read).toEqual([2]);
    expect(partitions.rows).toBe(rows.filter((row) => partitionOf(row.customerId, 4) >= 2).length);
  });

  it('refuses rows once reading has started', async () => {
    const partitions = new CustomerPartitions({ count: 2, dir });
    await collect(partitions);
    await expect(partitions.add(batchOf([aRow(2, 'A')]))).rejects.toThrow(/after reading started/);
  });
});

describe('partitioning', () => {
  it('puts a customer in the same partition every time, spread over all partitions', () => {
    const counts = new Array(8).fill(0);
    for (let i = 0; i < 8000; i++) counts[partitionOf(`C${String(i).padStart(7, '0')}`, 8)] += 1;
    expect(partitionOf('C0000042', 8)).toBe(partitionOf('C0000042', 8));
    for (const count of counts) expect(count).toBeGreaterThan(800);
  });

  it('uses one partition for a small file and more as files grow, within the limit', () => {
    expect(partitionCountFor(300_000)).toBe(1);
    expect(partitionCountFor(120_000_000)).toBe(29);
    expect(partitionCountFor(10 * 1024 ** 3)).toBe(MAX_PARTITIONS);
    expect(partitionCountFor(undefined)).toBe(MAX_PARTITIONS);
  });

  it('slices a partition into units without splitting a customer', () => {
    const accounts = groupByCustomer(Array.from({ length: 10 }, (_, i) => aRow(i + 2, `C-${i % 5}`)));
    expect([...unitsOf(accounts, 2)].map((unit) => unit.map((group) => group.rows.length))).toEqual([
      [2, 2],
      [2, 2],
      [2],
    ]);
  });
});
