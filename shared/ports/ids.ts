import { randomUUID } from 'node:crypto';

/** Where new identifiers come from, so tests and the local runtime get repeatable ids. */
export interface Ids {
  next(prefix: string): string;
}

export const randomIds: Ids = { next: (prefix) => `${prefix}_${randomUUID()}` };

/** Deterministic ids: `prefix_000001`, `prefix_000002`... */
export class SequentialIds implements Ids {
  #counter = 0;
  next(prefix: string): string {
    this.#counter += 1;
    return `${prefix}_${String(this.#counter).padStart(6, '0')}`;
  }
}
