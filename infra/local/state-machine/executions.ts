import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';

const Instant = z.iso.datetime({ offset: true });

/**
 * Where an execution stands. `PARKED` is local only: on AWS it would be `RUNNING`, sleeping in a
 * Wait state until a virtual-clock instant the local runtime has not reached yet.
 */
export const ExecutionStatus = z.enum(['RUNNING', 'PARKED', 'SUCCEEDED', 'FAILED', 'ABORTED']);
export type ExecutionStatus = z.infer<typeof ExecutionStatus>;

/** One state entered, at the virtual instant it was entered. */
export const StateEntry = z.object({ state: z.string(), at: Instant });
export type StateEntry = z.infer<typeof StateEntry>;

/** What happened besides entering states: retries, catches, failures, parking, resuming. */
export const ExecutionEvent = z.object({
  type: z.enum(['Failed', 'Retried', 'Caught', 'Parked', 'Resumed', 'Interrupted']),
  state: z.string(),
  at: Instant,
  error: z.string().optional(),
  cause: z.string().optional(),
  /** For `Retried`: how many retries of that retrier this is (1 = the first). */
  attempt: z.number().int().optional(),
  wakeAt: Instant.optional(),
});
export type ExecutionEvent = z.infer<typeof ExecutionEvent>;

/** Where a run stopped to wait, and what the Wait state would have passed on. */
export const ParkedAt = z.object({
  /** The Wait state's `Next`: the run resumes there. */
  resumeState: z.string(),
  /** The Wait state's input, which is also its output (Wait states here have no paths). */
  input: z.json(),
  wakeAt: Instant,
  parkedAt: Instant,
});
export type ParkedAt = z.infer<typeof ParkedAt>;

/** The state and input a run started from: enough to run it again if the process died mid-run. */
export const Segment = z.object({ startState: z.string(), input: z.json(), startedAt: Instant });
export type Segment = z.infer<typeof Segment>;

export const ExecutionRecord = z.object({
  name: z.string(),
  executionArn: z.string(),
  input: z.json(),
  status: ExecutionStatus,
  startedAt: Instant,
  stoppedAt: Instant.optional(),
  output: z.json().optional(),
  error: z.string().optional(),
  cause: z.string().optional(),
  segment: Segment.optional(),
  parked: ParkedAt.optional(),
  path: z.array(StateEntry),
  events: z.array(ExecutionEvent),
});
export type ExecutionRecord = z.infer<typeof ExecutionRecord>;

const ExecutionsFile = z.object({ version: z.literal(1), executions: z.array(ExecutionRecord) });

/**
 * The executions of one state machine, kept in one JSON file. Writes are coalesced: however many
 * executions change while a write is under way, the next write carries them all.
 */
export class ExecutionFile {
  readonly #file: string;
  readonly #snapshot: () => readonly ExecutionRecord[];
  #dirty = false;
  #writing: Promise<void> | undefined;
  #failure: unknown;

  constructor(file: string, snapshot: () => readonly ExecutionRecord[]) {
    this.#file = file;
    this.#snapshot = snapshot;
  }

  static async read(file: string): Promise<ExecutionRecord[]> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    return ExecutionsFile.parse(JSON.parse(text)).executions;
  }

  markChanged(): void {
    this.#dirty = true;
    this.#writing ??= this.#writeWhileDirty().catch((error: unknown) => {
      this.#failure = error;
    });
  }

  /** Resolves once everything changed so far is on disk; rejects if a write failed. */
  async flush(): Promise<void> {
    while (this.#writing) await this.#writing;
    if (this.#failure !== undefined) {
      const failure = this.#failure;
      this.#failure = undefined;
      throw failure;
    }
  }

  async #writeWhileDirty(): Promise<void> {
    try {
      while (this.#dirty) {
        this.#dirty = false;
        await this.#write(this.#snapshot());
      }
    } finally {
      this.#writing = undefined;
    }
  }

  async #write(executions: readonly ExecutionRecord[]): Promise<void> {
    // One execution per line: small diffs, and grep finds an execution by name.
    const lines = executions.map((execution) => JSON.stringify(execution)).join(',\n');
    const body = `{"version":1,"executions":[\n${lines}\n]}\n`;
    const temporary = `${this.#file}.${process.pid}.tmp`;
    await mkdir(dirname(this.#file), { recursive: true });
    await writeFile(temporary, body);
    await rename(temporary, this.#file);
  }
}
