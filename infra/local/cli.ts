import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEMO_START, runDemo } from './demo';
import { LocalRuntime } from './runtime';
import { type AccountView, accountView, explainAccount } from './views';

export const USAGE = `arrears: Arrears' local runtime (DynamoDB Local, local S3 and SES v2, the ladder's ASL file)

Usage: arrears <command> [options]

Commands:
  start                             run the demo on examples/ from a clean data folder, print a summary
  ingest <file> --tenant <id>       put the file in the local inbox and run the pipeline until it settles
  accounts --tenant <id>            list accounts with open invoices and balances
  simulate --days <n>               advance the virtual clock n days, running what falls due
  explain <account> --tenant <id>   account, invoices, notices, audit trail and the ladder's next step

Options:
  --data-dir <dir>   where state is kept (default .arrears)
  --now <ISO time>   set the virtual clock first (or ARREARS_NOW); otherwise it carries on
  --json             machine-readable output (one JSON document on stdout)
  --days <n>         (simulate, start) days to simulate
  -h, --help         this text
`;

class UsageError extends Error {
  override readonly name = 'UsageError';
}

const COMMANDS = ['start', 'ingest', 'accounts', 'simulate', 'explain'] as const;
type Command = (typeof COMMANDS)[number];

interface Options {
  dataDir: string;
  now?: string;
  json: boolean;
  tenant?: string;
  days?: number;
}

const parse = (argv: string[]) => {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      'data-dir': { type: 'string' },
      now: { type: 'string' },
      json: { type: 'boolean', default: false },
      tenant: { type: 'string' },
      days: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help) return { help: true as const };
  if (!command || !(COMMANDS as readonly string[]).includes(command)) {
    throw new UsageError(command ? `unknown command "${command}"` : 'no command given');
  }
  const now = values.now ?? (process.env.ARREARS_NOW || undefined);
  if (now !== undefined && Number.isNaN(Date.parse(now)))
    throw new UsageError(`--now "${now}" is not an ISO timestamp`);
  let days: number | undefined;
  if (values.days !== undefined) {
    days = Number(values.days);
    if (!Number.isInteger(days) || days < 0 || days > 3660)
      throw new UsageError(`--days must be a whole number 0-3660`);
  }
  const options: Options = {
    dataDir: resolve(values['data-dir'] ?? '.arrears'),
    json: values.json ?? false,
    ...(now === undefined ? {} : { now }),
    ...(values.tenant === undefined ? {} : { tenant: values.tenant }),
    ...(days === undefined ? {} : { days }),
  };
  return { help: false as const, command: command as Command, args: rest, options };
};

const requireTenant = (options: Options): string => {
  if (!options.tenant) throw new UsageError('--tenant <id> is required');
  return options.tenant;
};

const print = (options: Options, json: unknown, text: () => string): void => {
  process.stdout.write(options.json ? `${JSON.stringify(json, null, 2)}\n` : `${text()}\n`);
};

/** Runs `work` on an opened runtime and always closes it (servers stopped, clock saved). */
const withRuntime = async <T>(options: Options, work: (runtime: LocalRuntime) => Promise<T>): Promise<T> => {
  const runtime = await LocalRuntime.open({
    dataDir: options.dataDir,
    ...(options.now ? { now: options.now } : {}),
  });
  try {
    return await work(runtime);
  } finally {
    await runtime.close();
  }
};

const ingest = async (options: Options, args: string[]): Promise<number> => {
  const tenantId = requireTenant(options);
  const [file] = args;
  if (!file || args.length > 1) throw new UsageError('ingest takes exactly one file');
  if (!existsSync(file)) throw new UsageError(`no such file: ${file}`);
  const body = await readFile(file);
  const receipts = await withRuntime(options, async (runtime) => {
    const written = runtime.watchReceipts();
    await runtime.putInboxFile(`inbox/${tenantId}/invoices/${basename(file)}`, body);
    await runtime.drainQueues();
    await runtime.runAgingScan([tenantId]);
    await runtime.settle();
    await runtime.writeOutbox();
    return written.stop();
  });
  const receipt = receipts.at(-1);
  if (!receipt) {
    process.stderr.write(
      `no receipt was written for ${file}; see ${join(options.dataDir, 'queues')} for dead letters\n`,
    );
    return 1;
  }
  print(options, receipt, () => {
    const r = receipt as Record<string, unknown> & {
      rejects: { line: number; field: string; reason: string }[];
    };
    const lines = [
      `${basename(file)} → tenant ${tenantId}: ${r.rowsRead} rows read, ${r.applied} applied, ${r.rejected} rejected${r.duplicateFile ? ' (duplicate file: nothing changed)' : ''}`,
      ...(r.fileRejection ? [`file rejected: ${(r.fileRejection as { reason: string }).reason}`] : []),
      ...r.rejects.slice(0, 20).map((x) => `  line ${x.line}, ${x.field}: ${x.reason}`),
    ];
    return lines.join('\n');
  });
  return 0;
};

const accounts = async (options: Options): Promise<number> => {
  const tenantId = requireTenant(options);
  const views = await withRuntime(options, async (runtime) => {
    runtime.deps.tenants.get(tenantId);
    const list: AccountView[] = [];
    for await (const account of runtime.deps.store.listAccounts(tenantId)) {
      list.push(
        accountView(runtime, account, await runtime.deps.store.getInvoices(tenantId, account.accountId)),
      );
    }
    return list.sort((a, b) => (a.accountId < b.accountId ? -1 : 1));
  });
  print(options, views, () =>
    views.length === 0
      ? `no accounts for tenant ${tenantId}`
      : views
          .map(
            (v) =>
              `${v.accountId.padEnd(14)} ${v.name.slice(0, 28).padEnd(28)} ${(v.balancesDisplay || '-').padEnd(22)} ${String(v.daysPastDue ?? '-').padStart(4)} dpd  ${v.cycle ? `${v.cycle.status} rung ${v.cycle.rungId ?? '-'}` : 'current'}`,
          )
          .join('\n'),
  );
  return 0;
};

const simulate = async (options: Options): Promise<number> => {
  if (options.days === undefined) throw new UsageError('simulate needs --days <n>');
  const days = options.days;
  const result = await withRuntime(options, async (runtime) => {
    const from = runtime.clock.now();
    const before = (await runtime.servers.ses.sentEmails()).length;
    const { scans, wakeUps } = await runtime.advanceTo(new Date(from.getTime() + days * 86_400_000));
    await runtime.exportReports();
    const sent = (await runtime.servers.ses.sentEmails()).length - before;
    await runtime.writeOutbox();
    return {
      from: from.toISOString(),
      to: runtime.clock.now().toISOString(),
      agingScans: scans.length,
      laddersStarted: scans.flatMap((s) => s.tenants).reduce((n, t) => n + t.laddersStarted, 0),
      wakeUps,
      noticesSent: sent,
    };
  });
  print(
    options,
    result,
    () =>
      `simulated ${result.from} → ${result.to}: ${result.agingScans} aging scans, ${result.laddersStarted} ladders started, ${result.noticesSent} notices sent`,
  );
  return 0;
};

const explain = async (options: Options, args: string[]): Promise<number> => {
  const tenantId = requireTenant(options);
  const [accountId] = args;
  if (!accountId || args.length > 1) throw new UsageError('explain takes exactly one account id');
  const explanation = await withRuntime(options, (runtime) => explainAccount(runtime, tenantId, accountId));
  if (!explanation) {
    process.stderr.write(`no account ${accountId} for tenant ${tenantId}\n`);
    return 1;
  }
  print(options, explanation.json, () => explanation.text);
  return 0;
};

const start = async (options: Options): Promise<number> => {
  await resetDataDir(options.dataDir);
  const summary = await withRuntime({ ...options, now: options.now ?? DEMO_START }, (runtime) =>
    runDemo(runtime, { days: options.days ?? 60 }),
  );
  print(options, summary.json, () => summary.text);
  return 0;
};

/** `start` begins from a clean folder, but only deletes a folder this tool made. */
const resetDataDir = async (dataDir: string): Promise<void> => {
  if (existsSync(dataDir)) {
    const entries = await readdir(dataDir);
    if (entries.length > 0 && !entries.includes('clock.json') && !entries.includes('.arrears-data')) {
      throw new UsageError(`${dataDir} is not empty and was not made by arrears; choose another --data-dir`);
    }
    await rm(dataDir, { recursive: true, force: true });
  }
  await mkdir(dataDir, { recursive: true });
  await writeFile(join(dataDir, '.arrears-data'), 'state of the arrears local runtime\n');
};

export const main = async (argv: string[]): Promise<number> => {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  if (parsed.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const { command, args, options } = parsed;
  try {
    if (command !== 'ingest' && command !== 'explain' && args.length > 0) {
      throw new UsageError(`${command} takes no arguments (got ${args.join(' ')})`);
    }
    switch (command) {
      case 'start':
        return await start(options);
      case 'ingest':
        return await ingest(options, args);
      case 'accounts':
        return await accounts(options);
      case 'simulate':
        return await simulate(options);
      case 'explain':
        return await explain(options, args);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof Error && error.name === 'UnknownTenantError') {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
};
