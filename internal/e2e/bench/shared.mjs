// What the e2e benches share: the measured request and how a server's CPU time is read.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';

/** A 2026-07-28 `tools/call` as the v2 client sends it: the envelope in `_meta` (and in headers). */
export const MODERN_TOOLS_CALL = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: {
    name: 'public_tool',
    arguments: {},
    _meta: {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientInfo': { name: 'bench', version: '1.0.0' },
      'io.modelcontextprotocol/clientCapabilities': {},
    },
  },
});

/**
 * CPU time a process has used so far, in ms (Linux /proc; undefined elsewhere).
 * @param {number | undefined} pid
 * @returns {number | undefined}
 */
export function cpuMs(pid) {
  try {
    const fields = (readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] ?? '').split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, 100 Hz
  } catch {
    return undefined;
  }
}

/**
 * The order of `names` in round `round`, so that across rounds each one runs right after each
 * other one equally often (a Williams design): a server that follows a heavy one meets its
 * left-over work (its GC, the memory it hands back), so a fixed cyclic order, even started at
 * a different place each round, would make one row pay for another every time. With an even
 * count, every `names.length` rounds hold each ordered pair once; with an odd count, twice that.
 * `BENCH_ORDER=rotate` gives the former plain rotation, for comparison.
 * @template T
 * @param {T[]} names
 * @param {number} round
 * @returns {T[]}
 */
export function roundOrder(names, round) {
  const n = names.length;
  /** @param {number} i */
  const at = (i) => /** @type {T} */ (names[i % n]);
  if (process.env.BENCH_ORDER === 'rotate') return names.map((_, i) => at(round + i));
  // First sequence 0, 1, n-1, 2, n-2, …; round r adds r; odd counts alternate with the reverse.
  const first = [0];
  for (let low = 1, high = n - 1; first.length < n; ) {
    first.push(low++);
    if (first.length < n) first.push(high--);
  }
  const shift = n % 2 === 0 ? round % n : Math.floor(round / 2) % n;
  const sequence = first.map((i) => at(i + shift));
  return n % 2 === 1 && round % 2 === 1 ? sequence.reverse() : sequence;
}

/** How `roundOrder` orders rounds, for a bench's header line. */
export const ROUND_ORDER =
  process.env.BENCH_ORDER === 'rotate'
    ? 'order: plain rotation (BENCH_ORDER=rotate)'
    : 'order: balanced, each server right after each other equally often';

/** The load average as the benches print it beside their figures ("4.7 10.3 10.1"). */
export const loadAverage = () =>
  loadavg()
    .map((n) => n.toFixed(1))
    .join(' ');

/**
 * The median of some numbers.
 * @param {number[]} values
 */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const [low, high] = [sorted[middle - 1] ?? Number.NaN, sorted[middle] ?? Number.NaN];
  return sorted.length % 2 ? high : (low + high) / 2;
}
