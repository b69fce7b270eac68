/** A binary min-heap of keys by expiry time: the next key to forget is always on top. */
export class ExpiryHeap {
  readonly #keys: string[] = [];
  readonly #times: number[] = [];

  get size(): number {
    return this.#keys.length;
  }

  /** The earliest expiry, or Infinity when empty. */
  peekTime(): number {
    return this.#times[0] ?? Number.POSITIVE_INFINITY;
  }

  push(key: string, time: number): void {
    const keys = this.#keys;
    const times = this.#times;
    let i = keys.length;
    keys.push(key);
    times.push(time);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (times[parent]! <= time) break;
      keys[i] = keys[parent]!;
      times[i] = times[parent]!;
      i = parent;
    }
    keys[i] = key;
    times[i] = time;
  }

  /** Removes and returns the key with the earliest expiry. */
  pop(): string | undefined {
    const keys = this.#keys;
    const times = this.#times;
    const top = keys[0];
    const lastKey = keys.pop();
    const lastTime = times.pop();
    if (keys.length === 0 || lastKey === undefined || lastTime === undefined) return top;
    let i = 0;
    const n = keys.length;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && times[right]! < times[left]! ? right : left;
      if (times[child]! >= lastTime) break;
      keys[i] = keys[child]!;
      times[i] = times[child]!;
      i = child;
    }
    keys[i] = lastKey;
    times[i] = lastTime;
    return top;
  }
}
