/**
 * Bundle size and cold import time of every function, against a bundle of only the AWS SDK clients
 * it uses. Both are built with the stack's own esbuild options (infra/constructs/lambda-bundle.ts)
 * and imported in fresh Node 22 processes with the deployed NODE_OPTIONS.
 *
 * Method, so that a busy neighbour on a shared machine moves the verdict as little as possible:
 * each bundle is imported once untimed (file cache), then RUNS rounds each import both, the order
 * alternating from round to round. The ratio is the median over rounds of the function's time
 * divided by the SDK-only time of the same round (back to back, so a slow moment hits both), with
 * the 25th-75th percentile of those ratios beside it. CPU time (user + system) is printed too: on a
 * shared machine it is the steadier figure. A ratio above 1.2 means the function's own code and
 * dependencies cost more than a fifth on top of the SDK at every cold start: worth a look.
 */
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import {
  copyBundleFiles,
  esbuildOptions,
  LAMBDA_NODE_OPTIONS,
  lambdaBundle,
} from '../infra/constructs/lambda-bundle';
import { type FunctionSpec, functionCatalog, functionEntry } from '../infra/functions';
import { EnvNames } from '../shared/config';
import {
  type BenchContext,
  defineBench,
  formatTable,
  type ImportTiming,
  median,
  quantile,
  timeImport,
} from './harness';

export const RUNS = 21;
export const RATIO_LIMIT = 1.2;

/** How a handler constructs each client at cold start; the baseline does the same, nothing more. */
const SDK_CLIENTS: Record<string, { imports: Record<string, string[]>; make: string }> = {
  '@aws-sdk/client-dynamodb': {
    imports: { '@aws-sdk/client-dynamodb': ['DynamoDBClient'] },
    make: 'new DynamoDBClient({})',
  },
  '@aws-sdk/lib-dynamodb': {
    imports: {
      '@aws-sdk/client-dynamodb': ['DynamoDBClient'],
      '@aws-sdk/lib-dynamodb': ['DynamoDBDocumentClient'],
    },
    make: 'DynamoDBDocumentClient.from(new DynamoDBClient({}))',
  },
  '@aws-sdk/client-s3': { imports: { '@aws-sdk/client-s3': ['S3Client'] }, make: 'new S3Client({})' },
  '@aws-sdk/client-sfn': { imports: { '@aws-sdk/client-sfn': ['SFNClient'] }, make: 'new SFNClient({})' },
  '@aws-sdk/client-sesv2': {
    imports: { '@aws-sdk/client-sesv2': ['SESv2Client'] },
    make: 'new SESv2Client({})',
  },
  '@aws-sdk/client-sqs': { imports: { '@aws-sdk/client-sqs': ['SQSClient'] }, make: 'new SQSClient({})' },
  '@aws-sdk/client-secrets-manager': {
    imports: { '@aws-sdk/client-secrets-manager': ['SecretsManagerClient'] },
    make: 'new SecretsManagerClient({})',
  },
};

const installed = (root: string, pkg: string) => existsSync(join(root, 'node_modules', pkg, 'package.json'));

/** The source of the SDK-only module of a function, and the clients left out because they are not installed. */
export const sdkOnlyModule = (spec: FunctionSpec, isInstalled: (pkg: string) => boolean) => {
  const missing = spec.sdkClients.filter((pkg) => !isInstalled(pkg) || !SDK_CLIENTS[pkg]);
  const used = spec.sdkClients.filter((pkg) => !missing.includes(pkg));
  const imports = new Map<string, Set<string>>();
  for (const pkg of used) {
    for (const [from, names] of Object.entries(SDK_CLIENTS[pkg]!.imports)) {
      const set = imports.get(from) ?? new Set<string>();
      for (const name of names) set.add(name);
      imports.set(from, set);
    }
  }
  const source = [
    ...[...imports].map(([from, names]) => `import { ${[...names].join(', ')} } from '${from}';`),
    // Exported so minification cannot drop the construction.
    `export const clients = [${used.map((pkg) => SDK_CLIENTS[pkg]!.make).join(', ')}];`,
    '',
  ].join('\n');
  return { source, missing };
};

/** What the deployed function finds in its environment, with values that reach nothing. */
const lambdaLikeEnv = (spec: FunctionSpec): Record<string, string> => ({
  NODE_OPTIONS: LAMBDA_NODE_OPTIONS,
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  AWS_EC2_METADATA_DISABLED: 'true',
  // Any request made while importing fails at once instead of leaving the machine.
  AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
  POWERTOOLS_SERVICE_NAME: spec.name,
  ...Object.fromEntries(Object.values(EnvNames).map((name) => [name, `bench-${name.toLowerCase()}`])),
  [EnvNames.logLevel]: 'WARN',
  [EnvNames.ladderStateMachineArn]: 'arn:aws:states:eu-west-1:000000000000:stateMachine:bench',
  [EnvNames.webhookSecretArn]: 'arn:aws:secretsmanager:eu-west-1:000000000000:secret:bench',
  [EnvNames.paymentsQueueUrl]: 'https://sqs.eu-west-1.amazonaws.com/000000000000/bench',
});

/** Bytes in the bundle per package (node_modules/<pkg>) or per top-level folder of the repository. */
const bytesBySource = (metafile: Metafile): Map<string, number> => {
  const totals = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [file, { bytesInOutput }] of Object.entries(output.inputs)) {
      const match = file.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
      const source = match ? match[1]! : file.split('/').slice(0, 2).join('/');
      totals.set(source, (totals.get(source) ?? 0) + bytesInOutput);
    }
  }
  return totals;
};

/** Builds with the stack's options; the metafile only reports what went in, it changes no output byte. */
const bundle = async (entry: string, outdir: string) => {
  const result = await build({ ...esbuildOptions(entry, outdir), metafile: true });
  copyBundleFiles(outdir);
  return {
    bytes: statSync(join(outdir, lambdaBundle.outfile)).size,
    sources: bytesBySource(result.metafile),
  };
};

const isSdk = (source: string) => /^@(aws-sdk|smithy|aws-crypto)\//.test(source);

/** The largest contributors that are not the AWS SDK: where to look when the ratio is high. */
const largestNonSdk = (sources: Map<string, number>, count = 3): string =>
  [...sources]
    .filter(([source]) => !isSdk(source))
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([source, bytes]) => `${source} ${bytes} B`)
    .join(', ');

interface Row {
  name: string;
  bundleBytes: number;
  sdkBytes: number;
  handlerMs: number;
  sdkMs: number;
  handlerImportMs: number;
  sdkImportMs: number;
  /** Median over rounds of handler / SDK only, start to imported. */
  ratio: number;
  ratioP25: number;
  ratioP75: number;
  /** The same by CPU time. */
  cpuRatio: number;
  largestNonSdk: string;
  note: string;
  runs: { handler: ImportTiming[]; sdk: ImportTiming[] };
}

/** Per round, `a` over `b`: the two were measured back to back. */
const pairedRatios = (a: readonly number[], b: readonly number[]) =>
  a.map((value, round) => value / b[round]!);

const measure = async (context: BenchContext, spec: FunctionSpec): Promise<Row | string> => {
  const entry = functionEntry(spec.name);
  if (!existsSync(join(context.root, entry))) return `${spec.name}: skipped, ${entry} does not exist yet`;

  const dir = join(context.outDir, spec.name);
  mkdirSync(dir, { recursive: true });
  const handlerBundle = await bundle(entry, join(dir, 'handler'));
  const { source, missing } = sdkOnlyModule(spec, (pkg) => installed(context.root, pkg));
  const sdkEntry = join(dir, 'sdk-only.mjs');
  writeFileSync(sdkEntry, source);
  const sdkBundle = await bundle(sdkEntry, join(dir, 'sdk-only'));

  const env = lambdaLikeEnv(spec);
  const handlerFile = join(dir, 'handler', lambdaBundle.outfile);
  const sdkFile = join(dir, 'sdk-only', lambdaBundle.outfile);
  // Untimed: the first read of a fresh bundle and its map comes from disk, every later one from
  // the page cache, as on Lambda where the code is on local storage before the runtime starts.
  await timeImport(handlerFile, env);
  await timeImport(sdkFile, env);
  const handlerRuns: ImportTiming[] = [];
  const sdkRuns: ImportTiming[] = [];
  for (let run = 0; run < RUNS; run += 1) {
    // Alternating order, so neither side is always the one after a pause or a busy moment.
    if (run % 2 === 0) {
      handlerRuns.push(await timeImport(handlerFile, env));
      sdkRuns.push(await timeImport(sdkFile, env));
    } else {
      sdkRuns.push(await timeImport(sdkFile, env));
      handlerRuns.push(await timeImport(handlerFile, env));
    }
  }
  const sinceStart = (runs: ImportTiming[]) => runs.map((timing) => timing.sinceStartMs);
  const ratios = pairedRatios(sinceStart(handlerRuns), sinceStart(sdkRuns));
  const cpu = (runs: ImportTiming[]) => runs.map((timing) => timing.cpuMs);
  return {
    name: spec.name,
    bundleBytes: handlerBundle.bytes,
    sdkBytes: sdkBundle.bytes,
    largestNonSdk: largestNonSdk(handlerBundle.sources),
    handlerMs: median(sinceStart(handlerRuns)),
    sdkMs: median(sinceStart(sdkRuns)),
    handlerImportMs: median(handlerRuns.map((timing) => timing.importMs)),
    sdkImportMs: median(sdkRuns.map((timing) => timing.importMs)),
    ratio: median(ratios),
    ratioP25: quantile(ratios, 0.25),
    ratioP75: quantile(ratios, 0.75),
    cpuRatio: median(pairedRatios(cpu(handlerRuns), cpu(sdkRuns))),
    note: missing.length ? `baseline without ${missing.join(', ')} (not installed)` : '',
    runs: { handler: handlerRuns, sdk: sdkRuns },
  };
};

/**
 * A warning when other work competes for the cores: wall-clock ratios then scatter, CPU ratios
 * much less. `ownLoad` is what this benchmark itself adds to the 1-minute load average (one child
 * at a time), so the check after the runs does not blame the benchmark on the neighbours.
 */
const busyMachine = (ownLoad: number): string | undefined => {
  const [load = 0] = loadavg();
  const cores = availableParallelism();
  return load - ownLoad > cores / 2
    ? `machine busy (load ${load.toFixed(1)} on ${cores} cores): wall-clock ratios are noisy, the CPU ratio is steadier`
    : undefined;
};

export default defineBench({
  description: `bundle bytes and cold import time of each function vs. only its SDK clients (median of ${RUNS} paired rounds)`,
  run: async (context) => {
    const busyBefore = busyMachine(0);
    if (busyBefore) context.log(`before: ${busyBefore}`);
    const rows: Row[] = [];
    for (const spec of functionCatalog) {
      try {
        const result = await measure(context, spec);
        if (typeof result === 'string') context.log(result);
        else rows.push(result);
      } catch (error) {
        context.log(`${spec.name}: failed, ${(error as Error).message}`);
      }
    }
    if (rows.length === 0) {
      context.log('no function could be measured');
      return;
    }
    const ms = (value: number) => Number(value.toFixed(1));
    context.log();
    context.log(
      formatTable(
        [
          'function',
          'bundle (bytes)',
          'SDK only (bytes)',
          'start→imported (ms)',
          'SDK only (ms)',
          'import alone (ms)',
          'SDK only alone (ms)',
          'ratio',
          'ratio p25-p75',
          'CPU ratio',
          'flag',
        ],
        rows.map((row) => [
          row.name,
          row.bundleBytes,
          row.sdkBytes,
          ms(row.handlerMs),
          ms(row.sdkMs),
          ms(row.handlerImportMs),
          ms(row.sdkImportMs),
          Number(row.ratio.toFixed(2)),
          `${row.ratioP25.toFixed(2)}-${row.ratioP75.toFixed(2)}`,
          Number(row.cpuRatio.toFixed(2)),
          row.ratio > RATIO_LIMIT ? `> ${RATIO_LIMIT}` : '',
        ]),
      ),
    );
    for (const row of rows.filter((candidate) => candidate.note))
      context.log(`note: ${row.name}: ${row.note}`);
    const flagged = rows.filter((row) => row.ratio > RATIO_LIMIT);
    context.log(
      flagged.length
        ? `flagged: ${flagged.map((row) => row.name).join(', ')} import more than ${RATIO_LIMIT}x the time of their SDK clients alone`
        : `no function above ${RATIO_LIMIT}x its SDK clients`,
    );
    for (const row of flagged) context.log(`  ${row.name}, largest besides the SDK: ${row.largestNonSdk}`);
    const busyAfter = busyMachine(1);
    if (busyAfter) context.log(`after: ${busyAfter}`);
    writeFileSync(join(context.outDir, 'results.json'), `${JSON.stringify({ runs: RUNS, rows }, null, 2)}\n`);
  },
});
