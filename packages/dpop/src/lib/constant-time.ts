/**
 * Compares two ASCII strings of equal length without an early exit, so the time taken does
 * not tell an attacker how many leading characters matched. Strings of different length are
 * unequal at once: every value compared here (thumbprints, hashes, nonces) has a public length.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
