/**
 * Invoice file parsing (issue 3, benchmark a): the full pipeline of shared/ingest (decode,
 * tokenize, validate every field, duplicate checks, group per customer) against the bare
 * parse of the same generated 1,000,000-row file by csv-parse (the parser most Node projects use)
 * and by udsv (the fastest streaming CSV parser measured for this issue), plus our tokenizer alone.
 *
 * Every measurement runs in a fresh Node 22 process, so peak RSS belongs to that measurement
 * alone, and the kinds are interleaved over RUNS rounds so a busy neighbour hurts all alike; the
 * table shows medians. CPU time (user + system) is printed beside wall time: on a shared machine
 * it is the steadier figure.
 *
 *   npm run bench -- ingest-parse
 */
import { createReadStream, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse';
import { inferSchema, initParser } from 'udsv';
import { CsvTokenizer } from '../shared/ingest/csv-tokenizer';
import { parseInvoiceFile } from '../shared/ingest/parse-invoice-file';
import { ensureInvoiceFile } from './generate-invoices';
import { defineBench, formatTable, median, runJsonChild } from './harness';

export const ROWS = 1_000_000;
export const RUNS = 3;
export const TARGET_RATIO = 2;
const CHUNK = 64 * 1024;
/** Heap limit for the "bounded memory" run: what a 512 MB Lambda leaves V8 after the runtime. */
const CAPPED_HEAP_MB = 256;

const KINDS = ['csv-parse', 'udsv', 'tokenizer', 'pipeline', 'pipeline-capped'] as const;
type Kind = (typeof KINDS)[number];

const LABELS: Record<Kind, string> = {
  'csv-parse': 'csv-parse, bare parse',
  udsv: 'udsv, bare parse',
  tokenizer: 'shared/ingest tokenizer, bare parse',
  pipeline: 'full pipeline (parse + validate + group)',
  'pipeline-capped': `full pipeline, heap capped at ${CAPPED_HEAP_MB} MB`,
};

interface Measurement {
  kind: Kind;
  rows: number;
  wallMs: number;
  cpuMs: number;
  maxRssMb: number;
}

/** One measurement, in this (child) process. */
const measure = async (kind: Kind, file: string): Promise<Measurement> => {
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let rows = 0;
  const stream = () => createReadStream(file, { highWaterMark: CHUNK });
  if (kind === 'csv-parse') {
    // The fastest of its stream APIs here (measured: `for await` over the parser is ~10% slower).
    const parser = parse({ bom: true, relax_column_count: true });
    parser.on('readable', () => {
      while (parser.read() !== null) rows++;
    });
    const ended = new Promise((resolve, reject) => parser.on('end', resolve).on('error', reject));
    for await (const chunk of stream()) {
      if (!parser.write(chunk)) await new Promise((resolve) => parser.once('drain', resolve));
    }
    parser.end();
    await ended;
    rows -= 1; // the header
  } else if (kind === 'udsv') {
    let parser: ReturnType<typeof initParser> | undefined;
    const count = () => {
      rows++;
    };
    for await (const chunk of createReadStream(file, { highWaterMark: CHUNK, encoding: 'utf8' })) {
      parser ??= initParser(inferSchema(chunk as string, { col: ',', encl: '"' }));
      parser.chunk<string[]>(chunk as string, parser.stringArrs, count);
    }
    parser?.end();
  } else if (kind === 'tokenizer') {
    const tokenizer = new CsvTokenizer({ delimiter: ',' });
    const sink = {
      record: () => {
        rows++;
      },
      invalid: () => {},
    };
    const decoder = new TextDecoder();
    for await (const chunk of stream())
      tokenizer.write(decoder.decode(chunk as Buffer, { stream: true }), sink);
    tokenizer.end(sink);
    rows -= 1;
  } else {
    for await (const event of parseInvoiceFile({
      body: stream(),
      size: statSync(file).size,
      fileName: 'bench.csv',
      format: {},
    })) {
      if (event.kind === 'summary') {
        if (event.valid !== ROWS)
          throw new Error(`expected ${ROWS} valid rows, got ${event.valid} (${event.rejected} rejected)`);
        rows = event.rowsRead;
      }
    }
  }
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  return {
    kind,
    rows,
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
  };
};

const runChild = (node: string, kind: Kind, file: string): Promise<Measurement> =>
  runJsonChild<Measurement>(
    node,
    [
      ...(kind === 'pipeline-capped' ? [`--max-old-space-size=${CAPPED_HEAP_MB}`] : []),
      '--import',
      'tsx',
      fileURLToPath(import.meta.url),
      '--measure',
      kind,
      file,
    ],
    { label: kind, marker: '{"kind"' },
  );

export default defineBench({
  description: `invoice file parsing: full pipeline vs bare csv-parse and udsv on ${ROWS.toLocaleString('en')} rows`,
  async run({ node, outDir, log }) {
    const generated = performance.now();
    const file = await ensureInvoiceFile(ROWS, outDir);
    const bytes = statSync(file).size;
    log(
      `file: ${file} (${(bytes / 1e6).toFixed(1)} MB, ready in ${((performance.now() - generated) / 1000).toFixed(1)} s)`,
    );

    const results = new Map<Kind, Measurement[]>(KINDS.map((kind) => [kind, []]));
    for (let run = 1; run <= RUNS; run++) {
      for (const kind of KINDS) {
        const measurement = await runChild(node, kind, file);
        if (measurement.rows !== ROWS)
          throw new Error(`${kind} read ${measurement.rows} rows, expected ${ROWS}`);
        results.get(kind)!.push(measurement);
        log(`  run ${run}/${RUNS} ${kind}: ${(measurement.wallMs / 1000).toFixed(2)} s`);
      }
    }

    const summary = KINDS.map((kind) => {
      const runs = results.get(kind)!;
      const wallMs = median(runs.map((m) => m.wallMs));
      return {
        kind,
        rowsPerSecond: ROWS / (wallMs / 1000),
        mbPerSecond: bytes / 1e6 / (wallMs / 1000),
        cpuMicrosPerRow: (median(runs.map((m) => m.cpuMs)) * 1000) / ROWS,
        maxRssMb: Math.max(...runs.map((m) => m.maxRssMb)),
      };
    });
    const baseline = summary.find((entry) => entry.kind === 'csv-parse')!;
    log('');
    log(
      formatTable(
        ['measurement', 'rows/s', 'MB/s', 'CPU µs/row', 'peak RSS MB', 'rows/s vs csv-parse'],
        summary.map((entry) => [
          LABELS[entry.kind],
          Math.round(entry.rowsPerSecond),
          Number(entry.mbPerSecond.toFixed(1)),
          Number(entry.cpuMicrosPerRow.toFixed(2)),
          Math.round(entry.maxRssMb),
          Number((entry.rowsPerSecond / baseline.rowsPerSecond).toFixed(2)),
        ]),
      ),
    );
    const full = summary.find((entry) => entry.kind === 'pipeline')!;
    const ratio = full.rowsPerSecond / baseline.rowsPerSecond;
    const cpuRatio = baseline.cpuMicrosPerRow / full.cpuMicrosPerRow;
    log('');
    log(
      `full pipeline / csv-parse bare parse: ${ratio.toFixed(2)}x by wall time, ${cpuRatio.toFixed(2)}x by CPU time ` +
        `(target >= ${TARGET_RATIO.toFixed(1)}: ${ratio >= TARGET_RATIO ? 'met' : 'NOT met'})`,
    );
    log(`medians of ${RUNS} interleaved runs, each in a fresh process; peak RSS is the largest of the runs`);
  },
});

if (process.argv[2] === '--measure') {
  const result = await measure(process.argv[3] as Kind, process.argv[4]!);
  process.stdout.write(JSON.stringify(result));
}
