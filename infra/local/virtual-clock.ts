import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { Clock } from '../../shared/ports/clock';

const ClockFile = z.object({ now: z.iso.datetime({ offset: true }) });

export interface VirtualClockLoadOptions {
  /** An instant (ISO 8601) that wins over the stored one, e.g. from `--now`. */
  now?: string;
}

/**
 * The local runtime's clock: it stands still until told to move, and it is kept in
 * `<dataDir>/clock.json` so the next CLI process carries on from where this one left it.
 */
export class VirtualClock implements Clock {
  static readonly fileName = 'clock.json';

  readonly #file: string;
  #now: Date;

  private constructor(file: string, now: Date) {
    this.#file = file;
    this.#now = now;
  }

  /**
   * Where the clock starts: `options.now` if given; otherwise the stored instant; otherwise the
   * real current time. Nothing is written until {@link save}.
   */
  static async load(dataDir: string, options: VirtualClockLoadOptions = {}): Promise<VirtualClock> {
    const file = join(dataDir, VirtualClock.fileName);
    if (options.now !== undefined) return new VirtualClock(file, parseInstant(options.now));
    const stored = await readStored(file);
    return new VirtualClock(file, stored ?? new Date());
  }

  now(): Date {
    return new Date(this.#now);
  }

  /** Moves the clock forward (a negative amount would let time run backwards, so it is refused). */
  advance(milliseconds: number): void {
    if (!Number.isFinite(milliseconds) || milliseconds < 0) {
      throw new RangeError(`The virtual clock only moves forward; got ${milliseconds} ms`);
    }
    this.#now = new Date(this.#now.getTime() + milliseconds);
  }

  set(instant: Date | string): void {
    this.#now = typeof instant === 'string' ? parseInstant(instant) : new Date(instant);
    if (Number.isNaN(this.#now.getTime())) throw new RangeError('Invalid date for the virtual clock');
  }

  async save(): Promise<void> {
    const body: z.infer<typeof ClockFile> = { now: this.#now.toISOString() };
    const temporary = `${this.#file}.${process.pid}.tmp`;
    await mkdir(join(this.#file, '..'), { recursive: true });
    await writeFile(temporary, `${JSON.stringify(body)}\n`);
    await rename(temporary, this.#file);
  }
}

const parseInstant = (value: string): Date => {
  const parsed = z.iso.datetime({ offset: true }).or(z.iso.date()).safeParse(value);
  if (!parsed.success) throw new RangeError(`Not an ISO 8601 instant: ${JSON.stringify(value)}`);
  return new Date(parsed.data);
};

const readStored = async (file: string): Promise<Date | undefined> => {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return new Date(ClockFile.parse(JSON.parse(text)).now);
};
