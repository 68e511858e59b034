/**
 * End-to-end invoice ingest into DynamoDB Local against a bare BatchWriteItem load of the same
 * rows, in one run on the same servers (issue 3, item 8b: the ingest must reach 0.3 of the bare
 * load), with the peak RSS of the ingest.
 *
 *   npm run bench -- ingest-load                              # 200,000 rows, 4 invoices per customer
 *   ARREARS_BENCH_ROWS=1000000 npm run bench -- ingest-load   # the issue's 1,000,000-row file
 *   ARREARS_BENCH_INVOICES_PER_CUSTOMER=10 npm run bench -- ingest-load
 *   ARREARS_BENCH_CHILD_HEAP_MB=300 npm run bench -- ingest-load   # the ingest with a capped V8 heap
 *
 * Invoices per customer decide the writes a row costs: a customer's rows commit as one change
 * (account, its invoices, one audit entry), so 4 per customer are 1.5 transactional writes a row,
 * 10 per customer 1.2. The bare load writes one plain item a row whatever the customers.
 *
 * 1. Starts DynamoDB Local (in memory) and a local S3, and generates the file (bench/generate-
 *    invoices.ts, customers drawn at random over the whole file, tenant `globex` whose columns
 *    are ours).
 * 2. Bare load: every row as one plain item (its CSV fields, keyed like an invoice), 25 per
 *    BatchWriteItem. A short run at 4, 8, 16 and 32 requests in flight (which also warms the JVM)
 *    picks the fastest; the whole file is then loaded at that setting into a fresh table. The
 *    rows are parsed before the clock starts, so the baseline pays for writes only.
 * 3. End to end: the file is put into the local S3 and `ingestInvoiceFile` runs in a child
 *    process (after a small warm-up file) into fresh tables: checksum pass, parse, validation,
 *    regrouping, reads, plans, transactions with audit entries, receipt. Its peak RSS is the
 *    child's own `process.resourceUsage().maxRSS`.
 * 4. The same file through the same path with a store that keeps nothing: the memory and time
 *    of everything but DynamoDB.
 *
 * Peak RSS depends on how far V8 lets its heap grow before collecting, which it decides from the
 * machine's memory: on a large machine it grows far beyond what is live. A run with
 * ARREARS_BENCH_CHILD_HEAP_MB caps the heap of the ingest processes, which shows the memory the
 * ingest really needs (it fails with an out-of-memory error if the cap is too small).
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { parse } from 'csv-parse/sync';
import { localDynamoDbClientConfig, startDynamoDbLocal } from '../infra/local/servers/dynamodb-local';
import { localS3ClientConfig, startS3Local } from '../infra/local/servers/s3-local';
import { createTables } from '../shared/adapters/dynamo/table-bootstrap';
import { S3BlobStore } from '../shared/adapters/s3/s3-blob-store';
import { keys } from '../shared/tables';
import { ensureInvoiceFile, generateInvoiceCsv, INVOICE_HEADER } from './generate-invoices';
import { type BenchContext, defineBench, formatTable, runJsonChild } from './harness';
import type { ChildResult, ChildTask } from './ingest-load.child';

export const TARGET_RATIO = 0.3;
const TENANT = 'globex';
const BUCKET = 'arrears-bench';
const BATCH_WRITE_ITEMS = 25;
const CALIBRATION_ROWS = 30_000;
const WARM_UP_ROWS = 10_000;

const rowsWanted = (): number => {
  const raw = process.env.ARREARS_BENCH_ROWS;
  const rows = raw === undefined ? 200_000 : Number(raw);
  if (!Number.isInteger(rows) || rows < 1000)
    throw new Error(`ARREARS_BENCH_ROWS must be an integer ≥ 1000, not ${raw}`);
  return rows;
};

const invoicesPerCustomer = (): number => {
  const raw = process.env.ARREARS_BENCH_INVOICES_PER_CUSTOMER;
  const value = raw === undefined ? 4 : Number(raw);
  if (!(value >= 1)) throw new Error(`ARREARS_BENCH_INVOICES_PER_CUSTOMER must be a number ≥ 1, not ${raw}`);
  return value;
};

/** The generated rows as CSV records, parsed once before any clock starts. */
const recordsOf = (rows: number, perCustomer: number): string[][] => {
  const records: string[][] = [];
  for (const chunk of generateInvoiceCsv(rows, { invoicesPerCustomer: perCustomer })) {
    for (const record of parse(chunk, { relax_column_count: true }) as string[][]) {
      if (record[0] !== INVOICE_HEADER[0]) records.push(record);
    }
  }
  return records;
};

/** A row as a plain item: its CSV fields, one item a row in its customer's partition. */
const plainItem = (record: readonly string[]): Record<string, string> => {
  const item: Record<string, string> = { pk: keys.account(TENANT, record[0]!).pk, sk: `INV#${record[5]!}` };
  for (const [index, name] of INVOICE_HEADER.entries()) if (record[index]) item[name] = record[index]!;
  return item;
};

/** Writes the records with BatchWriteItem, `inFlight` requests at once, resending unprocessed items. */
const bareLoad = async (
  doc: DynamoDBDocumentClient,
  table: string,
  records: readonly (readonly string[])[],
  inFlight: number,
): Promise<number> => {
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < records.length) {
      const from = next;
      next += BATCH_WRITE_ITEMS;
      let requests = records
        .slice(from, from + BATCH_WRITE_ITEMS)
        .map((record) => ({ PutRequest: { Item: plainItem(record) } }));
      while (requests.length > 0) {
        const { UnprocessedItems } = await doc.send(
          new BatchWriteCommand({ RequestItems: { [table]: requests } }),
        );
        requests = (UnprocessedItems?.[table] ?? []) as typeof requests;
      }
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return performance.now() - started;
};

const childHeapMb = (): number | undefined => {
  const raw = process.env.ARREARS_BENCH_CHILD_HEAP_MB;
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 64)
    throw new Error(`ARREARS_BENCH_CHILD_HEAP_MB must be an integer ≥ 64, not ${raw}`);
  return value;
};

const runChild = (context: BenchContext, task: ChildTask): Promise<ChildResult> => {
  const heap = childHeapMb();
  return runJsonChild<ChildResult>(
    context.node,
    [
      ...(heap ? [`--max-old-space-size=${heap}`] : []),
      '--import',
      'tsx',
      join(context.root, 'bench', 'ingest-load.child.ts'),
      JSON.stringify(task),
    ],
    { cwd: context.root, label: `ingest child (${task.mode})` },
  );
};

/**
 * CPU time (ms) the JVM of DynamoDB Local has used so far, from /proc (Linux); undefined elsewhere.
 * With the ingest child's own CPU time it shows which side of the wire the seconds went to.
 */
const jvmCpuReader = (port: number): (() => number | undefined) => {
  let pid: string | undefined;
  let ticksPerSecond = 100;
  try {
    // The watchdog that starts the JVM carries the same arguments: the JVM is the one named java.
    pid = execFileSync('pgrep', ['-f', `DynamoDBLocal.jar -port ${port} `], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .find((candidate) => readFileSync(`/proc/${candidate}/comm`, 'utf8').trim() === 'java');
    if (pid === undefined) return () => undefined;
    ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return () => undefined;
  }
  return () => {
    try {
      // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return ((Number(fields[11]) + Number(fields[12])) / ticksPerSecond) * 1000;
    } catch {
      return undefined;
    }
  };
};

const perSecond = (rows: number, ms: number) => Math.round(rows / (ms / 1000));
const seconds = (ms: number) => Number((ms / 1000).toFixed(1));

export default defineBench({
  description:
    'end-to-end invoice ingest into DynamoDB Local vs. a bare BatchWriteItem load of the same rows',
  run: async (context) => {
    const rows = rowsWanted();
    const perCustomer = invoicesPerCustomer();
    const file = await ensureInvoiceFile(rows, join(context.root, '.bench'), {
      invoicesPerCustomer: perCustomer,
    });
    const warmUpFile = await ensureInvoiceFile(WARM_UP_ROWS, join(context.root, '.bench'), {
      seed: 1,
      invoicesPerCustomer: perCustomer,
    });
    const fileMb = statSync(file).size / 1e6;
    context.log(`${rows} rows, ${fileMb.toFixed(1)} MB, ${perCustomer} invoices per customer on average`);

    const s3Dir = await mkdtemp(join(tmpdir(), 'arrears-bench-s3-'));
    const [dynamo, s3] = await Promise.all([startDynamoDbLocal({}), startS3Local({ directory: s3Dir })]);
    const client = new DynamoDBClient(localDynamoDbClientConfig(dynamo.endpoint));
    const doc = DynamoDBDocumentClient.from(client);
    const jvmCpu = jvmCpuReader(dynamo.port);
    const s3Client = new S3Client(localS3ClientConfig(s3.endpoint));
    let tableCounter = 0;
    const freshTables = async () => {
      tableCounter += 1;
      const names = { accounts: `bench-accounts-${tableCounter}`, audit: `bench-audit-${tableCounter}` };
      await createTables(client, names);
      return names;
    };
    const dropTables = async (names: { accounts: string; audit: string }) => {
      for (const table of [names.accounts, names.audit])
        await client.send(new DeleteTableCommand({ TableName: table }));
    };
    try {
      // 2. Bare load.
      const records = recordsOf(rows, perCustomer);
      if (records.length !== rows) throw new Error(`generated ${records.length} records, expected ${rows}`);
      const calibration: [number, number][] = [];
      for (const inFlight of [4, 8, 16, 32]) {
        const tables = await freshTables();
        const sample = records.slice(0, Math.min(CALIBRATION_ROWS, rows));
        calibration.push([
          inFlight,
          perSecond(sample.length, await bareLoad(doc, tables.accounts, sample, inFlight)),
        ]);
        await dropTables(tables);
      }
      const best = calibration.reduce((a, b) => (b[1] > a[1] ? b : a))[0];
      const bareTables = await freshTables();
      const bareJvmBefore = jvmCpu();
      const bareCpuBefore = process.cpuUsage();
      const bareMs = await bareLoad(doc, bareTables.accounts, records, best);
      const bareCpu = process.cpuUsage(bareCpuBefore);
      const bareJvmAfter = jvmCpu();
      const bareCpuMs = {
        client: (bareCpu.user + bareCpu.system) / 1000,
        jvm:
          bareJvmBefore === undefined || bareJvmAfter === undefined
            ? undefined
            : bareJvmAfter - bareJvmBefore,
      };
      await dropTables(bareTables);
      records.length = 0;

      // 3. End to end, in a child process.
      await s3.createBucket(BUCKET);
      const blobs = new S3BlobStore(s3Client);
      const key = `inbox/${TENANT}/invoices/bench-${rows}.csv`;
      const warmUpKey = `inbox/${TENANT}/invoices/warm-up.csv`;
      await blobs.put(BUCKET, warmUpKey, await readAll(warmUpFile), 'text/csv');
      await blobs.putFile(BUCKET, key, file, 'text/csv');
      const base = { s3Endpoint: s3.endpoint, bucket: BUCKET, dynamoEndpoint: dynamo.endpoint };
      const warmUpTables = await freshTables();
      await runChild(context, { ...base, mode: 'e2e', key: warmUpKey, tables: warmUpTables });
      await dropTables(warmUpTables);
      const e2eTables = await freshTables();
      const jvmCpuBefore = jvmCpu();
      const e2e = await runChild(context, { ...base, mode: 'e2e', key, tables: e2eTables });
      const jvmCpuAfter = jvmCpu();
      const e2eJvmCpuMs =
        jvmCpuBefore === undefined || jvmCpuAfter === undefined ? undefined : jvmCpuAfter - jvmCpuBefore;
      if (e2e.rowsRead !== rows || e2e.applied !== rows) {
        throw new Error(`end to end read ${e2e.rowsRead} and applied ${e2e.applied} of ${rows} rows`);
      }
      // 4. Without DynamoDB.
      const noStoreKey = `inbox/${TENANT}/invoices/bench-${rows}-no-store.csv`;
      await blobs.putFile(BUCKET, noStoreKey, file, 'text/csv');
      const noStore = await runChild(context, { ...base, mode: 'no-store', key: noStoreKey });

      const bareRate = perSecond(rows, bareMs);
      const e2eRate = perSecond(rows, e2e.ms);
      const ratio = e2eRate / bareRate;
      context.log(
        `bare load calibration (${Math.min(CALIBRATION_ROWS, rows)} rows): ${calibration.map(([n, r]) => `${n} in flight ${r} rows/s`).join(', ')}`,
      );
      context.log();
      context.log(
        formatTable(
          ['measure', 'rows', 'seconds', 'rows/s', 'peak RSS (MB)'],
          [
            [`bare BatchWriteItem load, ${best} requests in flight`, rows, seconds(bareMs), bareRate, '-'],
            [
              'end to end: ingestInvoiceFile from local S3',
              rows,
              seconds(e2e.ms),
              e2eRate,
              Math.round(e2e.maxRssMb),
            ],
            [
              '  of which parse, validate, regroup (before the first read)',
              rows,
              seconds(e2e.parseMs),
              perSecond(rows, e2e.parseMs),
              '-',
            ],
            [
              'same path, store that keeps nothing',
              rows,
              seconds(noStore.ms),
              perSecond(rows, noStore.ms),
              Math.round(noStore.maxRssMb),
            ],
          ],
        ),
      );
      context.log();
      context.log(
        `ratio end to end / bare load: ${ratio.toFixed(2)} (target ≥ ${TARGET_RATIO}: ${ratio >= TARGET_RATIO ? 'met' : 'NOT met'})`,
      );
      // CPU seconds do not depend on what else the machine runs the way wall time does (a busy
      // machine starves DynamoDB Local's one transaction thread more than its many batch threads).
      const cpuLine = (label: string, client: number, jvm: number | undefined, wallMs: number) =>
        `CPU of the ${label}: client ${seconds(client)} s, DynamoDB Local ${jvm === undefined ? 'unknown' : `${seconds(jvm)} s`} (of ${seconds(wallMs)} s wall, ${availableParallelism()} cores)`;
      context.log(cpuLine('bare load', bareCpuMs.client, bareCpuMs.jvm, bareMs));
      context.log(cpuLine('end-to-end ingest', e2e.cpuMs, e2eJvmCpuMs, e2e.ms));
      if (bareCpuMs.jvm !== undefined && e2eJvmCpuMs !== undefined) {
        context.log(
          `ratio of CPU seconds, bare load / end to end: ${((bareCpuMs.client + bareCpuMs.jvm) / (e2e.cpuMs + e2eJvmCpuMs)).toFixed(2)}`,
        );
      }
      context.log(
        `peak RSS of the end-to-end ingest: ${Math.round(e2e.maxRssMb)} MB (the Lambda has 1769 MB)`,
      );
      writeFileSync(
        join(context.outDir, `results-${rows}-${perCustomer}.json`),
        `${JSON.stringify({ rows, perCustomer, childHeapMb: childHeapMb() ?? null, fileMb, calibration, best, bareMs, bareCpuMs, bareRate, e2e, e2eJvmCpuMs, e2eRate, ratio, noStore }, null, 2)}\n`,
      );
    } finally {
      client.destroy();
      s3Client.destroy();
      await Promise.allSettled([dynamo.stop(), s3.stop()]);
      await rm(s3Dir, { recursive: true, force: true });
    }
  },
});

const readAll = async (path: string): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const chunk of createReadStream(path)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};
