import { MAX_REPLAY_KEY } from '../replay.js';
import { CodedTypeError } from './errors.js';

/** The checks both replay stores make of `remember`'s arguments (a caller's bug, not input). */
export function assertReplayArgs(key: unknown, expiresAtMs: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_REPLAY_KEY) {
    throw new CodedTypeError(
      `"key" must be a string of 1 to ${MAX_REPLAY_KEY} characters`,
      'ERR_INVALID_ARG_VALUE',
    );
  }
  if (!Number.isSafeInteger(expiresAtMs) || (expiresAtMs as number) <= 0) {
    throw new CodedTypeError(
      `"expiresAtMs" must be a whole number of epoch milliseconds, received ${String(expiresAtMs)}`,
      'ERR_INVALID_ARG_VALUE',
    );
  }
}
