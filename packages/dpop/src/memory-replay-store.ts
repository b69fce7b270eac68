import { ReplayStoreFullError } from './errors.js';
import { CodedTypeError, invalidType } from './lib/errors.js';
import { ExpiryHeap } from './lib/expiry-heap.js';
import type { ReplayStore } from './replay-store.js';

export interface MemoryReplayStoreOptions {
  /** Most unexpired proofs held at once (default 100 000: 13.6 MB measured on Node 20). */
  maxEntries?: number;
  /** The clock, in epoch milliseconds (default `Date.now`); tests inject one. */
  now?: () => number;
}

/** A {@link ReplayStore} in this process's memory, with how many proofs it holds. */
export interface MemoryReplayStore extends ReplayStore {
  readonly size: number;
}

/**
 * A bounded {@link ReplayStore} in memory, **for one instance only**: a second server process
 * has its own memory, so a proof replayed against it is accepted there. Behind a load balancer
 * use a shared store (Redis `SET NX PXAT`, see `ReplayStore`). Expired proofs are forgotten in
 * expiry order (a heap, O(log n) each); when `maxEntries` unexpired proofs are held, `remember`
 * throws `ReplayStoreFullError` rather than forget one early — forgetting would let its replay in.
 *
 * @example
 * const replay = createMemoryReplayStore();
 * await verifyProof(proof, { method: 'POST', url, replay });
 */
export function createMemoryReplayStore(options: MemoryReplayStoreOptions = {}): MemoryReplayStore {
  const maxEntries = options.maxEntries ?? 100_000;
  const now = options.now ?? Date.now;
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
    throw new CodedTypeError(
      `"maxEntries" must be a positive integer, received ${String(maxEntries)}`,
      'ERR_INVALID_ARG_VALUE',
    );
  }
  if (typeof now !== 'function') throw invalidType('now', 'a function', now);
  const expiries = new Map<string, number>();
  const heap = new ExpiryHeap();

  function forgetExpired(at: number): void {
    while (heap.peekTime() <= at) {
      const key = heap.pop()!;
      // A key is in the heap once per remember; only its live entry is forgotten.
      if ((expiries.get(key) ?? Number.POSITIVE_INFINITY) <= at) expiries.delete(key);
    }
  }

  return {
    get size() {
      forgetExpired(now());
      return expiries.size;
    },
    // Synchronous inside: no other remember can run between the lookup and the write.
    async remember(key: string, expiresAtMs: number): Promise<boolean> {
      if (typeof key !== 'string') throw invalidType('key', 'a string', key);
      if (typeof expiresAtMs !== 'number' || Number.isNaN(expiresAtMs)) {
        throw invalidType('expiresAtMs', 'a number', expiresAtMs);
      }
      const at = now();
      forgetExpired(at);
      if (expiries.has(key)) return false;
      if (expiresAtMs <= at) return true; // already expired: nothing left to refuse
      if (expiries.size >= maxEntries) {
        throw new ReplayStoreFullError(Math.max(1, Math.ceil((heap.peekTime() - at) / 1000)));
      }
      expiries.set(key, expiresAtMs);
      heap.push(key, expiresAtMs);
      return true;
    },
  };
}
