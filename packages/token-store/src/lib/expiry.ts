import type { Timestamp } from '../types.js';

/** A record is visible while `expiresAt` is in the future; `null` never expires. */
export function isExpired(expiresAt: Timestamp | null | undefined, now: Timestamp): boolean {
  return expiresAt !== null && expiresAt !== undefined && expiresAt <= now;
}
