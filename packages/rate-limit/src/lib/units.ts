import { CodedTypeError } from './errors.js';

export const US_PER_SECOND = 1_000_000;

/** Converts seconds to whole microseconds; state and scripts compute in integers to agree. */
export function secondsToUs(seconds: number, name: string): number {
  const us = Math.round(seconds * US_PER_SECOND);
  if (us < 1 || !Number.isSafeInteger(us)) {
    throw new CodedTypeError(
      `"${name}" must be at least one microsecond and a safe integer of them, received ${seconds}`,
      'ERR_INVALID_ARG_VALUE',
    );
  }
  return us;
}

/** Products of counts and microseconds must stay exact in a double (Lua has nothing else). */
export function assertExact(product: number, what: string): void {
  if (!Number.isSafeInteger(product)) {
    throw new CodedTypeError(
      `${what} is too large to compute exactly (limit × window in µs must stay below 2^53)`,
      'ERR_INVALID_ARG_VALUE',
    );
  }
}
