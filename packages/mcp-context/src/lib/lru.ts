/**
 * A bounded map that forgets a least recently used entry first, approximately: a hit marks
 * its entry used instead of moving it (no map writes on the hot path; every authenticated
 * request of a busy server is a hit), and eviction gives each marked entry a second chance,
 * moving it to the young end, before dropping the oldest unmarked one ("CLOCK"). A `Map` keeps
 * insertion order, so its first key is the next candidate.
 */
interface Slot<V> {
  value: V;
  used: boolean;
}

export class Lru<V> {
  readonly #max: number;
  readonly #entries = new Map<string, Slot<V>>();

  constructor(max: number) {
    this.#max = max;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): V | undefined {
    const slot = this.#entries.get(key);
    if (slot === undefined) return undefined;
    slot.used = true;
    return slot.value;
  }

  set(key: string, value: V): void {
    this.#entries.delete(key);
    // Room first, so the new entry (not used yet) is never the one to go.
    while (this.#entries.size >= this.#max) this.#evict();
    this.#entries.set(key, { value, used: false });
  }

  /**
   * Drops the entry longest in line that was not used since it last came up; used ones are
   * unmarked and go to the back of the line (when all were used, the one longest in line goes).
   */
  #evict(): void {
    // Terminates: every entry passed over is unmarked, so the second time round one goes.
    for (const [key, slot] of this.#entries) {
      this.#entries.delete(key);
      if (!slot.used) return;
      slot.used = false;
      this.#entries.set(key, slot);
    }
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }
}
