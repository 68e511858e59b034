import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * What `bench/run.ts` hands every benchmark, plus small helpers they share. A benchmark is a file
 * `bench/<name>.bench.ts` whose default export is a `Bench`; run.ts finds it by that name.
 */
export interface BenchContext {
  /** Repository root. */
  root: string;
  /** Node 22 (the `node` devDependency), for measurements in fresh processes. */
  node: string;
  /** A directory for this benchmark's artefacts under .bench/ (gitignored), created on demand. */
  outDir: string;
  log: (line?: string) => void;
}

export interface Bench {
  /** One line saying what is measured. */
  description: string;
  run: (context: BenchContext) => Promise<void>;
}

export const defineBench = (bench: Bench): Bench => bench;

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const node22 = join(root, 'node_modules/.bin/node');

export const benchOutDir = (name: string): string => {
  const dir = join(root, '.bench', name);
  mkdirSync(dir, { recursive: true });
  return dir;
};

export const median = (values: readonly number[]): number => {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/** The q-quantile (0..1) with linear interpolation between neighbours; `quantile(v, 0.5)` is the median. */
export const quantile = (values: readonly number[], q: number): number => {
  if (values.length === 0) throw new Error('quantile of no values');
  if (!(q >= 0 && q <= 1)) throw new Error(`quantile ${q} is not between 0 and 1`);
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const below = Math.floor(at);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below]! + (sorted[above]! - sorted[below]!) * (at - below);
};

/** A plain-text table; numbers right-aligned, everything else left-aligned. */
export const formatTable = (
  header: readonly string[],
  rows: readonly (readonly (string | number)[])[],
): string => {
  const cells = [header, ...rows].map((row) => row.map(String));
  const widths = header.map((_, column) => Math.max(...cells.map((row) => row[column]?.length ?? 0)));
  const numeric = header.map(
    (_, column) => rows.length > 0 && rows.every((row) => typeof row[column] === 'number'),
  );
  const line = (row: readonly string[]) =>
    row
      .map((cell, column) =>
        numeric[column] ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!),
      )
      .join('  ')
      .trimEnd();
  return [
    line(cells[0]!),
    widths.map((width) => '-'.repeat(width)).join('  '),
    ...cells.slice(1).map(line),
  ].join('\n');
};

export interface ImportTiming {
  /** From process start (performance.timeOrigin) to the end of the import. */
  sinceStartMs: number;
  /** The import alone. */
  importMs: number;
  /**
   * CPU time (user + system, all threads) of the process from its start to the end of the import:
   * what a busy neighbour on a shared machine disturbs least.
   */
  cpuMs: number;
}

/**
 * Runs a Node process to the end and parses its JSON result: the text from the last `marker`
 * on, or without one the last line (anything the child printed before is ignored). A non-zero
 * exit or no JSON rejects with the tail of stderr.
 */
export const runJsonChild = <T>(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; label: string; marker?: string },
): Promise<T> =>
  new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, {
      ...(options.env ? { env: options.env } : {}),
      ...(options.cwd ? { cwd: options.cwd } : {}),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr = (stderr + chunk).slice(-8000);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const at = options.marker ? stdout.lastIndexOf(options.marker) : stdout.trimEnd().lastIndexOf('\n') + 1;
      if (code !== 0 || at < 0) {
        const tail = stderr.trim().split('\n').slice(-3).join(' ') || stdout.trim().slice(-200);
        reject(new Error(`${options.label} failed (exit ${code}): ${tail || 'no output'}`));
        return;
      }
      try {
        resolvePromise(JSON.parse(stdout.slice(at)) as T);
      } catch {
        reject(new Error(`${options.label} printed no JSON result: ${stdout.slice(-200)}`));
      }
    });
  });

/** Imports `file` in a fresh Node 22 process and reports how long it took. */
export const timeImport = (file: string, env: Record<string, string>): Promise<ImportTiming> =>
  runJsonChild<ImportTiming>(
    node22,
    [
      '--input-type=module',
      '-e',
      [
        'const before = performance.now();',
        'await import(process.argv[1]);',
        'const after = performance.now();',
        'const cpu = process.cpuUsage();',
        'process.stdout.write(JSON.stringify({ sinceStartMs: after, importMs: after - before, cpuMs: (cpu.user + cpu.system) / 1000 }));',
      ].join('\n'),
      pathToFileURL(file).href,
    ],
    // The child sees only the given environment (plus PATH): no loaders or NODE_OPTIONS leak in.
    { env: { PATH: process.env.PATH ?? '', ...env }, label: `import of ${file}`, marker: '{"sinceStartMs"' },
  );
