import { slotCountFor } from './string-table';
/** Marks an absent value in a contact key. */
export const ABSENT = 0xffff;

/** Per slot: hash, customer number + 1 (0: empty), start of its record in the pool, its group. */
const SLOT = 4; // (`hash << 2` below is `hash * SLOT`)
/** A record in the pool: id length, flags, key capacity (two units), then the id, then the key. */
const HEAD = 4;
const CHECKED = 1;

/**
 * The customers of one file, each with the raw contact fields its latest reading came from
 * (its "key"), in typed arrays. Every row looks its customer up and compares its contact fields
 * with the key; with 100,000 customers in random order that lookup is a walk through memory no
 * cache holds, so it is laid out to touch two places: the slot (the hash, where the record is and
 * the customer's group, side by side) and the record (the id, a flag and the key, side by side).
 * Ids and keys are compared in full: nothing is decided on a hash alone.
 *
 * The key is each contact value after its length (two code units), an absent one as U+FFFF
 * alone: two different sets of values never give the same key. A record is rewritten in place
 * when the customer's contact changes; a longer key moves the record to the end of the pool with
 * twice the room, so a file whose contacts keep changing wastes at most half the pool.
 */
export class CustomerTable {
  private slots: Int32Array;
  private pool: Uint16Array;
  private used = 0;
  private count = 0;

  constructor(initialCapacity = 1024) {
    const capacity = slotCountFor(initialCapacity);
    this.slots = new Int32Array(capacity * SLOT);
    this.pool = new Uint16Array(capacity * 16);
  }

  get size(): number {
    return this.count;
  }

  /** Code units of the pool in use (records and the room reserved in them). */
  get poolUsed(): number {
    return this.used;
  }

  /**
   * The slot (an offset, valid until the next `add`) of the customer whose id is
   * `text.slice(start, end)` of a decoded chunk, of `hashRange` `hash`; -1 when not there.
   */
  findAt(text: string, start: number, end: number, hash: number): number {
    const slots = this.slots;
    const mask = slots.length - SLOT;
    let slot = (hash << 2) & mask;
    for (;;) {
      const stored = slots[slot + 1]!;
      if (stored === 0) return -1;
      if (slots[slot] === hash && this.idEqualsAt(slots[slot + 2]!, text, start, end)) return slot;
      slot = (slot + SLOT) & mask;
    }
  }

  /** `findAt` for an id given as a string, of `hashKey` `hash` (separate code: see `StringTable`). */
  findKey(id: string, hash: number): number {
    const slots = this.slots;
    const mask = slots.length - SLOT;
    let slot = (hash << 2) & mask;
    for (;;) {
      const stored = slots[slot + 1]!;
      if (stored === 0) return -1;
      if (slots[slot] === hash && this.idEqualsKey(slots[slot + 2]!, id)) return slot;
      slot = (slot + SLOT) & mask;
    }
  }

  /**
   * Reads the slot where an id of `hash` is looked up first and returns what it holds (of no use
   * but to the caller's timing): see `StringTable.touch`.
   */
  touch(hash: number): number {
    return this.slots[(hash << 2) & (this.slots.length - SLOT)]!;
  }

  /** The customer number (0, 1, 2… in order of `add`) at `slot`. */
  customerAt(slot: number): number {
    return this.slots[slot + 1]! - 1;
  }

  /** The group number the caller stored for the customer at `slot` (-1 until set). */
  groupAt(slot: number): number {
    return this.slots[slot + 3]!;
  }

  setGroup(slot: number, group: number): void {
    this.slots[slot + 3] = group;
  }

  /** The caller's flag for the customer's current key (cleared whenever the key changes). */
  isChecked(slot: number): boolean {
    return (this.pool[this.slots[slot + 2]! + 1]! & CHECKED) !== 0;
  }

  setChecked(slot: number): void {
    this.pool[this.slots[slot + 2]! + 1]! |= CHECKED;
  }

  /**
   * True when the contact columns of a record given as ranges (`text.slice(starts[c], ends[c])`
   * for column c; `columns[p]` the column of contact value p, -1 when absent) hold exactly the
   * key of the customer at `slot`.
   */
  keyMatchesRanges(
    slot: number,
    text: string,
    starts: Int32Array,
    ends: Int32Array,
    columns: readonly number[],
  ): boolean {
    const pool = this.pool;
    const record = this.slots[slot + 2]!;
    let k = record + HEAD + pool[record]!;
    for (let position = 0; position < columns.length; position++) {
      const column = columns[position]!;
      if (column < 0) {
        if (pool[k++] !== ABSENT) return false;
        continue;
      }
      const start = starts[column]!;
      const length = ends[column]! - start;
      if (pool[k] !== length >>> 16 || pool[k + 1] !== (length & 0xffff)) return false;
      k += 2;
      const at = k - start;
      for (let i = start; i < start + length; i++) if (pool[at + i] !== text.charCodeAt(i)) return false;
      k += length;
    }
    return true;
  }

  /**
   * `keyMatchesRanges` for byte text (see byte-text.ts): the key holds decoded text, so each
   * UTF-8 sequence is decoded as it is compared (byte text is well-formed UTF-8). Decoding the
   * value first would cost a string for every row of the customers with an accented name.
   */
  keyMatchesByteRanges(
    slot: number,
    text: string,
    starts: Int32Array,
    ends: Int32Array,
    columns: readonly number[],
  ): boolean {
    const pool = this.pool;
    const record = this.slots[slot + 2]!;
    let k = record + HEAD + pool[record]!;
    for (let position = 0; position < columns.length; position++) {
      const column = columns[position]!;
      if (column < 0) {
        if (pool[k++] !== ABSENT) return false;
        continue;
      }
      const stop = k + 2 + pool[k]! * 0x10000 + pool[k + 1]!;
      k += 2;
      const end = ends[column]!;
      let i = starts[column]!;
      while (i < end) {
        let code = text.charCodeAt(i++);
        if (code >= 0x80) {
          if (code < 0xe0) {
            code = ((code & 0x1f) << 6) | (text.charCodeAt(i) & 0x3f);
            i += 1;
          } else if (code < 0xf0) {
            code =
              ((code & 0x0f) << 12) | ((text.charCodeAt(i) & 0x3f) << 6) | (text.charCodeAt(i + 1) & 0x3f);
            i += 2;
          } else {
            const point =
              (((code & 0x07) << 18) |
                ((text.charCodeAt(i) & 0x3f) << 12) |
                ((text.charCodeAt(i + 1) & 0x3f) << 6) |
                (text.charCodeAt(i + 2) & 0x3f)) -
              0x10000;
            i += 3;
            // Beyond U+FFFF: a surrogate pair in the key.
            if (k >= stop || pool[k++] !== 0xd800 + (point >> 10)) return false;
            code = 0xdc00 + (point & 0x3ff);
          }
        }
        if (k >= stop || pool[k++] !== code) return false;
      }
      if (k !== stop) return false;
    }
    return true;
  }

  /** `keyMatchesRanges` for values given as strings (undefined: absent). */
  keyMatchesValues(slot: number, values: readonly (string | undefined)[]): boolean {
    const pool = this.pool;
    const record = this.slots[slot + 2]!;
    let k = record + HEAD + pool[record]!;
    for (const value of values) {
      if (value === undefined) {
        if (pool[k++] !== ABSENT) return false;
        continue;
      }
      const length = value.length;
      if (pool[k] !== length >>> 16 || pool[k + 1] !== (length & 0xffff)) return false;
      k += 2;
      for (let i = 0; i < length; i++) if (pool[k + i] !== value.charCodeAt(i)) return false;
      k += length;
    }
    return true;
  }

  /**
   * Adds a customer that `find` did not find, with the key of `values`. Returns its slot (slots
   * of other customers may move). Its customer number is the table's size before the call.
   */
  add(id: string, hash: number, values: readonly (string | undefined)[]): number {
    if ((this.count + 1) * 2 * SLOT > this.slots.length) this.grow();
    const keyLength = keyLengthOf(values);
    const record = this.reserve(id.length, keyLength);
    const pool = this.pool;
    pool[record] = id.length;
    for (let i = 0, length = id.length; i < length; i++) pool[record + HEAD + i] = id.charCodeAt(i);
    this.writeKey(record, values);
    const slot = this.place(hash);
    const slots = this.slots;
    slots[slot] = hash;
    slots[slot + 1] = ++this.count;
    slots[slot + 2] = record;
    slots[slot + 3] = -1;
    return slot;
  }

  /** Replaces the key of the customer at `slot` (its contact changed); clears its flag. */
  setKey(slot: number, values: readonly (string | undefined)[]): void {
    const keyLength = keyLengthOf(values);
    let record = this.slots[slot + 2]!;
    const capacity = this.pool[record + 2]! * 0x10000 + this.pool[record + 3]!;
    if (keyLength > capacity) {
      const idLength = this.pool[record]!;
      const moved = this.reserve(idLength, Math.max(keyLength, capacity * 2));
      // The id moves; the head is the new record's own (copied whole, it would bring the old
      // capacity along, and a key that alternates between two lengths would move at every change).
      this.pool[moved] = idLength;
      this.pool.copyWithin(moved + HEAD, record + HEAD, record + HEAD + idLength);
      record = moved;
      this.slots[slot + 2] = record;
    }
    this.pool[record + 1] = 0;
    this.writeKey(record, values);
  }

  /** Room for a record at the end of the pool; returns its start, with its capacity written. */
  private reserve(idLength: number, capacity: number): number {
    const needed = this.used + HEAD + idLength + capacity;
    if (needed > this.pool.length) {
      let size = this.pool.length * 2;
      while (size < needed) size *= 2;
      const pool = new Uint16Array(size);
      pool.set(this.pool.subarray(0, this.used));
      this.pool = pool;
    }
    const record = this.used;
    this.used = needed;
    this.pool[record + 2] = capacity >>> 16;
    this.pool[record + 3] = capacity & 0xffff;
    return record;
  }

  private writeKey(record: number, values: readonly (string | undefined)[]): void {
    const pool = this.pool;
    let k = record + HEAD + pool[record]!;
    for (const value of values) {
      if (value === undefined) {
        pool[k++] = ABSENT;
        continue;
      }
      pool[k++] = value.length >>> 16;
      pool[k++] = value.length & 0xffff;
      for (let i = 0, length = value.length; i < length; i++) pool[k++] = value.charCodeAt(i);
    }
  }

  private idEqualsAt(record: number, text: string, start: number, end: number): boolean {
    const pool = this.pool;
    if (pool[record] !== end - start) return false;
    const at = record + HEAD - start;
    for (let i = start; i < end; i++) if (pool[at + i] !== text.charCodeAt(i)) return false;
    return true;
  }

  private idEqualsKey(record: number, id: string): boolean {
    const pool = this.pool;
    const length = id.length;
    if (pool[record] !== length) return false;
    const at = record + HEAD;
    for (let i = 0; i < length; i++) if (pool[at + i] !== id.charCodeAt(i)) return false;
    return true;
  }

  /** The empty slot where a new key of `hash` goes. */
  private place(hash: number): number {
    const slots = this.slots;
    const mask = slots.length - SLOT;
    let slot = (hash << 2) & mask;
    while (slots[slot + 1] !== 0) slot = (slot + SLOT) & mask;
    return slot;
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Int32Array(old.length * 2);
    for (let slot = 0; slot < old.length; slot += SLOT) {
      if (old[slot + 1] === 0) continue;
      const to = this.place(old[slot]!);
      this.slots.set(old.subarray(slot, slot + SLOT), to);
    }
  }
}

const keyLengthOf = (values: readonly (string | undefined)[]): number => {
  let length = 0;
  for (const value of values) length += value === undefined ? 1 : 2 + value.length;
  return length;
};
