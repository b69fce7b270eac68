import { assertPositiveInteger } from './lib/errors.js';
import type { RateLimitAlgorithm, RateLimitStore, StoreDecision } from './types.js';

/** Options of `memoryStore`. */
export interface MemoryStoreOptions {
  /** Most keys kept; beyond it the least recently used key is dropped. Default 100,000. */
  maxKeys?: number;
}

/** The in-process store; `size` is the number of keys it holds. */
export interface MemoryStore extends RateLimitStore {
  readonly size: number;
  readonly maxKeys: number;
}

const CELLS = 4; // three cells of algorithm state, then the time after which the state is idle
const INITIAL_SLOTS = 1024;
const SWEEP_PER_CALL = 2;

/**
 * In-process store for one instance (tests, a single server). Bounded: at most `maxKeys` keys;
 * when full, a key not used again since the last pass of a clock hand is dropped (CLOCK, an O(1)
 * approximation of least-recently-used that drops one-off keys first). A second hand removes a
 * couple of idle keys (their window or bucket back to empty) on every call. No timers, so it never keeps a process alive.
 * State lives in a `Float64Array` (four numbers per key) indexed by a `Map`, so a key costs its
 * string, one map entry and 33 bytes. Several instances need `redisStore` instead.
 *
 * @example
 * const limiter = createRateLimiter({
 *   algorithm: slidingWindow(100, 3600),
 *   store: memoryStore({ maxKeys: 50_000 }),
 * });
 */
export function memoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  const maxKeys = options.maxKeys ?? 100_000;
  assertPositiveInteger(maxKeys, 'maxKeys');

  const slots = new Map<string, number>();
  let capacity = Math.min(maxKeys, INITIAL_SLOTS);
  let cells = new Float64Array(capacity * CELLS);
  let used = new Uint8Array(capacity); // CLOCK's reference bits
  let nextSlot = 0;
  const freeSlots: number[] = [];
  // Live Map iterators survive deletions and insertions, so each hand resumes where it stopped
  // and a call costs O(1) instead of rescanning from the oldest entry. One hand sweeps idle
  // keys, the other picks what to drop when full, so sweeping does not age keys faster.
  const hands = [slots.entries(), slots.entries()];

  function advance(which: 0 | 1): [string, number] | undefined {
    let step = hands[which]!.next();
    if (step.done) {
      hands[which] = slots.entries();
      step = hands[which]!.next();
    }
    return step.done ? undefined : step.value;
  }

  function release(key: string, slot: number): void {
    slots.delete(key);
    freeSlots.push(slot);
  }

  function allocate(): number {
    const reused = freeSlots.pop();
    if (reused !== undefined) {
      cells.fill(0, reused * CELLS, reused * CELLS + CELLS);
      return reused;
    }
    if (nextSlot === capacity) {
      capacity = Math.min(maxKeys, capacity * 2);
      const grown = new Float64Array(capacity * CELLS);
      grown.set(cells);
      cells = grown;
      const grownUsed = new Uint8Array(capacity);
      grownUsed.set(used);
      used = grownUsed;
    }
    return nextSlot++;
  }

  function sweep(nowUs: number): void {
    for (let i = 0; i < SWEEP_PER_CALL && slots.size > 0; i++) {
      const entry = advance(0);
      if (entry && cells[entry[1] * CELLS + 3]! <= nowUs) release(entry[0], entry[1]);
    }
  }

  function evictOne(nowUs: number): void {
    // Second chance: a key used again since the hand last passed is spared once; a key seen only
    // once is not, so a flood of one-off keys evicts itself rather than active users. Ends
    // within two laps.
    for (;;) {
      const entry = advance(1);
      if (!entry) return;
      const [key, slot] = entry;
      if (used[slot] === 1 && cells[slot * CELLS + 3]! > nowUs) {
        used[slot] = 0;
        continue;
      }
      release(key, slot);
      return;
    }
  }

  return {
    get size() {
      return slots.size;
    },
    maxKeys,
    consume(
      key: string,
      algorithm: RateLimitAlgorithm,
      cost: number,
      nowMs: number,
    ): StoreDecision {
      const nowUs = Math.floor(nowMs * 1000);
      sweep(nowUs);
      let slot = slots.get(key);
      if (slot === undefined) {
        if (slots.size >= maxKeys) evictOne(nowUs);
        slot = allocate();
        used[slot] = 0;
        slots.set(key, slot);
      } else {
        used[slot] = 1;
      }
      return algorithm.apply(cells, slot * CELLS, nowUs, cost);
    },
    clear(key: string): void {
      const slot = slots.get(key);
      if (slot !== undefined) release(key, slot);
    },
  };
}
