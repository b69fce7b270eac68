import { invalidType, invalidValue } from './lib/errors.js';

/** How old a proof may be, and how far off a client's clock, in seconds. */
export interface ProofWindow {
  maxAgeSeconds: number;
  clockSkewSeconds: number;
}

/**
 * The `maxAgeSeconds` (a finite number, at least 1; default 60) and `clockSkewSeconds` (at
 * least 0; default 15) that `verifyProof` accepts for a proof's `iat`
 * ([RFC 9449 §4.3](https://www.rfc-editor.org/rfc/rfc9449#section-4.3), §11.1), checked: a
 * caller's mistake is a `TypeError` naming the option and the value. `verifyProof` checks its
 * own on every call; a server that takes these as options checks them here once, when it is
 * configured, instead of refusing every proof later. `prefix` goes before the names
 * (`'dpop.'`).
 *
 * @example
 * const { maxAgeSeconds, clockSkewSeconds } = proofWindow(options.dpop, 'dpop.');
 */
export function proofWindow(
  options: { maxAgeSeconds?: number | undefined; clockSkewSeconds?: number | undefined },
  prefix = '',
): ProofWindow {
  return {
    maxAgeSeconds: seconds(options.maxAgeSeconds, `${prefix}maxAgeSeconds`, 60, 1),
    clockSkewSeconds: seconds(options.clockSkewSeconds, `${prefix}clockSkewSeconds`, 15, 0),
  };
}

function seconds(value: unknown, name: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw invalidType(name, 'a number of seconds', value);
  if (!Number.isFinite(value) || value < min) {
    throw invalidValue(
      name,
      `must be a finite number of seconds, at least ${min}, received ${value}`,
    );
  }
  return value;
}
