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
 * In-process store for one instance (tests, a single server). Bounded: at most `maxKeys` keys,
 * the least recently used dropped first; keys whose state has gone idle (their window or bucket
 * is back to empty) are removed a few at a time on later calls. No timers, so it never keeps a
 * process alive. State lives in a `Float64Array` (four numbers per key) indexed by a `Map`, so a
 * key costs its string, one map entry and 32 bytes. Several instances need `redisStore` instead.
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

  // Map order is insertion order; re-inserting a key on each use makes the first entry the least
  // recently used one, which is what both the idle sweep and the cap look at.
  const slots = new Map<string, number>();
  let cells = new Float64Array(Math.min(maxKeys, INITIAL_SLOTS) * CELLS);
  let nextSlot = 0;
  const freeSlots: number[] = [];

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
    if ((nextSlot + 1) * CELLS > cells.length) {
      const grown = new Float64Array(Math.min(maxKeys, (cells.length / CELLS) * 2) * CELLS);
      grown.set(cells);
      cells = grown;
    }
    return nextSlot++;
  }

  function sweep(nowUs: number): void {
    let checked = 0;
    for (const [key, slot] of slots) {
      if (checked++ === SWEEP_PER_CALL || cells[slot * CELLS + 3]! > nowUs) return;
      release(key, slot);
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
        if (slots.size >= maxKeys) {
          const oldest = slots.entries().next().value;
          if (oldest) release(oldest[0], oldest[1]);
        }
        slot = allocate();
      } else {
        slots.delete(key);
      }
      slots.set(key, slot);
      return algorithm.apply(cells, slot * CELLS, nowUs, cost);
    },
    clear(key: string): void {
      const slot = slots.get(key);
      if (slot !== undefined) release(key, slot);
    },
  };
}
