import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AccountRows, InvoiceRow } from '../../shared/ingest';

export interface CustomerPartitionsOptions {
  /** Number of partitions; a customer's rows all go to one of them (by a hash of its id). */
  count: number;
  /** Folder for the partition files (the caller creates and removes it). */
  dir: string;
  /** Rows held in memory before all partitions are appended to their files (default 20,000). */
  maxBufferedRows?: number;
  /** Partitions below this one are left out entirely: a continuation has applied them already. */
  from?: number;
}

/** File bytes per partition: about 35,000 rows of a typical export, some 35 MB of rows in memory. */
export const PARTITION_FILE_BYTES = 4 * 1024 * 1024;
export const MAX_PARTITIONS = 256;

/** Partitions for a file of `bytes`: one for a small file, so it never touches the disk. */
export const partitionCountFor = (bytes: number | undefined, partitionBytes = PARTITION_FILE_BYTES): number =>
  Math.min(
    MAX_PARTITIONS,
    Math.max(1, Math.ceil((bytes ?? MAX_PARTITIONS * partitionBytes) / partitionBytes)),
  );

/** FNV-1a over the UTF-16 code units: stable across runs and processes, so a rerun partitions alike. */
export const partitionOf = (customerId: string, count: number): number => {
  let hash = 0x811c9dc5;
  for (let i = 0; i < customerId.length; i++) {
    hash ^= customerId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % count;
};

/**
 * The valid rows of one file, regrouped so that each customer's rows of the WHOLE file come
 * together, with bounded memory.
 *
 * Why: rows of one customer are usually spread over the file. Applied batch by batch, a customer
 * with four invoices costs four account changes (account, invoice, audit entry: three writes a
 * row); applied together, one change (account, four invoices, one audit entry: 1.5 writes a row).
 *
 * How: rows go to one of `count` partitions by a hash of the customer id, in file order. Rows
 * are buffered in memory and, past `maxBufferedRows`, appended to one file per partition as JSON
 * lines. Afterwards the partitions are read back one at a time and grouped per customer, so at
 * most one partition's rows are held (besides the buffer, released once reading starts).
 */
export class CustomerPartitions {
  readonly count: number;
  /** The first partition kept (see {@link CustomerPartitionsOptions.from}). */
  readonly from: number;
  readonly #dir: string;
  readonly #maxBufferedRows: number;
  #buffers: InvoiceRow[][];
  #buffered = 0;
  #onDisk: boolean[];
  #rows = 0;
  #reading = false;

  constructor(options: CustomerPartitionsOptions) {
    this.count = Math.max(1, Math.floor(options.count));
    this.from = Math.min(this.count, Math.max(0, Math.floor(options.from ?? 0)));
    this.#dir = options.dir;
    this.#maxBufferedRows = Math.max(1, options.maxBufferedRows ?? 20_000);
    this.#buffers = Array.from({ length: this.count }, () => []);
    this.#onDisk = new Array(this.count).fill(false);
  }

  /** Rows kept so far (rows of partitions below `from` are not counted). */
  get rows(): number {
    return this.#rows;
  }

  /** Adds a batch of rows (batches in file order); writes the buffers out once they are full. */
  async add(groups: readonly AccountRows[]): Promise<void> {
    if (this.#reading) throw new Error('CustomerPartitions: rows added after reading started');
    for (const group of groups) {
      const index = partitionOf(group.customerId, this.count);
      if (index < this.from) continue;
      const buffer = this.#buffers[index]!;
      for (const row of group.rows) buffer.push(row);
      this.#buffered += group.rows.length;
      this.#rows += group.rows.length;
    }
    if (this.#buffered >= this.#maxBufferedRows) await this.#flush();
  }

  /**
   * Partition after partition (from `from`), the customers in it with all of their rows in file
   * order (the contact is that of the customer's last row), customers in order of first
   * appearance. `mayStart` is asked before each partition is read; false ends the iteration.
   */
  async *partitions(
    mayStart: (index: number) => boolean = () => true,
  ): AsyncGenerator<{ index: number; accounts: AccountRows[] }> {
    this.#reading = true;
    for (let index = this.from; index < this.count; index++) {
      if (!mayStart(index)) return;
      const rows: InvoiceRow[] = [];
      if (this.#onDisk[index]) {
        const text = await readFile(this.#path(index), 'utf8');
        for (const line of text.split('\n')) if (line) rows.push(JSON.parse(line) as InvoiceRow);
      }
      for (const row of this.#buffers[index]!) rows.push(row);
      this.#buffers[index] = [];
      yield { index, accounts: groupByCustomer(rows) };
    }
  }

  async #flush(): Promise<void> {
    for (const [index, buffer] of this.#buffers.entries()) {
      if (buffer.length === 0) continue;
      let text = '';
      for (const row of buffer) text += `${JSON.stringify(row)}\n`;
      await appendFile(this.#path(index), text, 'utf8');
      this.#onDisk[index] = true;
      this.#buffers[index] = [];
    }
    this.#buffered = 0;
  }

  #path(index: number): string {
    return join(this.#dir, `partition-${String(index).padStart(3, '0')}.jsonl`);
  }
}

/** Rows grouped per customer, in order of each customer's first row; the contact of its last row. */
export const groupByCustomer = (rows: readonly InvoiceRow[]): AccountRows[] => {
  const groups = new Map<string, AccountRows>();
  for (const row of rows) {
    const group = groups.get(row.customerId);
    if (group) {
      group.rows.push(row);
      group.contact = row.contact;
    } else {
      groups.set(row.customerId, { customerId: row.customerId, contact: row.contact, rows: [row] });
    }
  }
  return [...groups.values()];
};

/** Slices a partition's customers into units of at most `size` accounts (never splitting one). */
export function* unitsOf(accounts: readonly AccountRows[], size: number): Generator<AccountRows[]> {
  for (let i = 0; i < accounts.length; i += size) yield accounts.slice(i, i + size);
}
