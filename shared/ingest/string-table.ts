/**
 * A set of strings with an int32 value each, for the per-file indexes that grow with the file
 * (invoice ids seen, e-mails and phones of debtors). Why not a `Map<string, number>`: measured on
 * 1,000,000 invoice ids, a Map costs about 1.4 µs an insert (its table is rebuilt as it grows and
 * every key becomes an old-generation object the collector must visit) and, worse, its keys are
 * substrings of the chunk they were cut from, so the Map keeps every chunk of the file alive
 * (300 MB of heap for a 125 MB file). This table copies each key's UTF-16 code units into one
 * growing Uint16Array and probes an open-addressing index: about 40 bytes per key, no per-key
 * object, exact (keys are compared in full, a hash alone decides nothing).
 *
 * Laid out for few cache misses, since with a million keys every probe lands somewhere new: a
 * slot holds the key's hash beside its entry number, so a probe that meets another key's slot
 * (or an empty one, as every new key does) reads nothing else; an entry's start, length and
 * value sit side by side.
 *
 * Keys come as strings or as ranges of a decoded chunk (`…At`), through separate code: V8 keeps
 * type feedback per call site, and one `charCodeAt` that sees both chunks and strings of every
 * other kind goes megamorphic, which makes every character a generic property lookup (4x slower
 * on the hot path, measured).
 */
export class StringTable {
  /** Per slot: entry number + 1 (0: empty), then the hash. */
  private slots: Int32Array;
  /** Per entry: start in the pool, length, value. */
  private entries: Int32Array;
  private pool: Uint16Array;
  private used = 0;
  private count = 0;

  constructor(initialCapacity = 1024) {
    const capacity = slotCountFor(initialCapacity);
    this.slots = new Int32Array(capacity * 2);
    this.entries = new Int32Array((capacity / 2) * 3);
    this.pool = new Uint16Array(capacity * 8);
  }

  get size(): number {
    return this.count;
  }

  /** The value stored for `key`, or -1 when the key is absent. */
  get(key: string): number {
    const slot = this.findKey(key, hashKey(key));
    return slot < 0 ? -1 : this.entries[(this.slots[slot]! - 1) * 3 + 2]!;
  }

  /**
   * Stores `value` for `key` unless the key is present. Returns the value already stored, or -1
   * when the key was new.
   */
  setIfAbsent(key: string, value: number): number {
    return this.setIfAbsentHashed(key, hashKey(key), value);
  }

  /** {@link setIfAbsent} for a key whose `hashKey` the caller has already computed. */
  setIfAbsentHashed(key: string, hash: number, value: number): number {
    const slot = this.findKey(key, hash);
    if (slot >= 0) return this.entries[(this.slots[slot]! - 1) * 3 + 2]!;
    const start = this.reserve(key.length);
    const pool = this.pool;
    for (let i = 0, length = key.length; i < length; i++) pool[start + i] = key.charCodeAt(i);
    this.insert(start, key.length, hash, value);
    return -1;
  }

  /** {@link setIfAbsent} for the key `text.slice(start, end)`, whose `hashRange` is `hash`. */
  setIfAbsentAt(text: string, start: number, end: number, hash: number, value: number): number {
    const slot = this.findAt(text, start, end, hash);
    if (slot >= 0) return this.entries[(this.slots[slot]! - 1) * 3 + 2]!;
    const at = this.reserve(end - start) - start;
    const pool = this.pool;
    for (let i = start; i < end; i++) pool[at + i] = text.charCodeAt(i);
    this.insert(at + start, end - start, hash, value);
    return -1;
  }

  /**
   * Reads the slot where a key of `hash` would be looked up first, and returns what it holds
   * (of no use but to the caller's timing): with a million keys that read waits for memory, and
   * issued early, beside the caller's other lookups, the waits overlap instead of adding up.
   */
  touch(hash: number): number {
    return this.slots[(hash << 1) & (this.slots.length - 2)]!;
  }

  /** The slot (index into `slots`) holding `key`, or -1. */
  private findKey(key: string, hash: number): number {
    const slots = this.slots;
    const mask = slots.length - 2;
    let slot = (hash << 1) & mask;
    for (;;) {
      const stored = slots[slot]!;
      if (stored === 0) return -1;
      if (slots[slot + 1] === hash && this.equalsKey(stored - 1, key)) return slot;
      slot = (slot + 2) & mask;
    }
  }

  /** The slot (index into `slots`) holding the key `text.slice(start, end)`, or -1. */
  private findAt(text: string, start: number, end: number, hash: number): number {
    const slots = this.slots;
    const mask = slots.length - 2;
    let slot = (hash << 1) & mask;
    for (;;) {
      const stored = slots[slot]!;
      if (stored === 0) return -1;
      if (slots[slot + 1] === hash && this.equalsAt(stored - 1, text, start, end)) return slot;
      slot = (slot + 2) & mask;
    }
  }

  private equalsKey(entry: number, key: string): boolean {
    const length = this.entries[entry * 3 + 1]!;
    if (length !== key.length) return false;
    const pool = this.pool;
    const at = this.entries[entry * 3]!;
    for (let i = 0; i < length; i++) if (pool[at + i] !== key.charCodeAt(i)) return false;
    return true;
  }

  private equalsAt(entry: number, text: string, start: number, end: number): boolean {
    const length = this.entries[entry * 3 + 1]!;
    if (length !== end - start) return false;
    const pool = this.pool;
    const at = this.entries[entry * 3]! - start;
    for (let i = start; i < end; i++) if (pool[at + i] !== text.charCodeAt(i)) return false;
    return true;
  }

  /** Room for `length` code units at the end of the pool; returns where they go. */
  private reserve(length: number): number {
    if (this.used + length > this.pool.length) {
      let size = this.pool.length * 2;
      while (size < this.used + length) size *= 2;
      const pool = new Uint16Array(size);
      pool.set(this.pool.subarray(0, this.used));
      this.pool = pool;
    }
    const start = this.used;
    this.used += length;
    return start;
  }

  /** Adds the entry for a key copied to the pool at `start`. */
  private insert(start: number, length: number, hash: number, value: number): void {
    if ((this.count + 1) * 4 > this.slots.length) this.grow();
    const entry = this.count++;
    const entries = this.entries;
    entries[entry * 3] = start;
    entries[entry * 3 + 1] = length;
    entries[entry * 3 + 2] = value;
    this.place(entry, hash);
  }

  private place(entry: number, hash: number): void {
    const slots = this.slots;
    const mask = slots.length - 2;
    let slot = (hash << 1) & mask;
    while (slots[slot] !== 0) slot = (slot + 2) & mask;
    slots[slot] = entry + 1;
    slots[slot + 1] = hash;
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Int32Array(old.length * 2);
    const entries = new Int32Array(this.entries.length * 2);
    entries.set(this.entries);
    this.entries = entries;
    for (let slot = 0; slot < old.length; slot += 2) {
      const stored = old[slot]!;
      if (stored !== 0) this.place(stored - 1, old[slot + 1]!);
    }
  }
}

/**
 * FNV-1a over the UTF-16 code units of `text.slice(start, end)`, then a murmur3 finaliser so the
 * low bits (the slot) mix well. For ranges of decoded chunks only (see {@link hashKey}).
 */
/**
 * The avalanche step of the string hashes below (murmur3's finaliser over an FNV-1a state): one
 * copy for all of them, as it sees only integers, so sharing it costs no type feedback.
 */
const finish = (state: number): number => {
  let hash = state ^ (state >>> 16);
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  return hash ^ (hash >>> 16);
};

/**
 * Slots of an open-addressing table meant for `entries`: a power of two (for masking) at least
 * twice the entries, so probes stay short while it fills.
 */
export const slotCountFor = (entries: number): number => {
  let slots = 16;
  while (slots < entries * 2) slots *= 2;
  return slots;
};

export const hashRange = (text: string, start: number, end: number): number => {
  let hash = 0x811c9dc5;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return finish(hash);
};

/**
 * {@link hashRange} of a whole string: the same hash, computed by separate code so that the hot
 * path's hashing of chunk ranges keeps its own type feedback (see `StringTable`).
 */
export const hashKey = (key: string): number => {
  let hash = 0x811c9dc5;
  for (let i = 0, length = key.length; i < length; i++)
    hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return finish(hash);
};

/**
 * A hash for keys that come in numbered runs, such as invoice ids (INV-000123, INV-000124…):
 * {@link hashRange} of all but the last character, plus that character's code, so keys that
 * differ only there (ten in a row, for digits) land in neighbouring slots. A table of a million
 * ids is then read nearly in order: in random order every new id costs a cache miss and a TLB
 * miss (measured on the bench file: the largest single wait of the pipeline). Only the last
 * character, so a run fills at most a few slots side by side and a key landing among another
 * run's slots probes a few slots at most. Keys are still compared in full; keys that share a
 * hash only cost a comparison. For ranges of decoded chunks (or byte text) only: see
 * {@link hashSequentialKey}.
 */
export const hashSequentialRange = (text: string, start: number, end: number): number =>
  end - start < 2
    ? hashRange(text, start, end)
    : (hashRange(text, start, end - 1) + text.charCodeAt(end - 1)) | 0;

/** {@link hashSequentialRange} of a whole string, by separate code (see `StringTable`). */
export const hashSequentialKey = (key: string): number => {
  const last = key.length - 1;
  if (last < 1) return hashKey(key);
  let hash = 0x811c9dc5;
  for (let i = 0; i < last; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return (finish(hash) + key.charCodeAt(last)) | 0;
};
