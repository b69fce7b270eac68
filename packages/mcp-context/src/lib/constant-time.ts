/**
 * Compares two byte strings of equal length without an early exit, so the time taken does not
 * tell an attacker how many leading bytes matched. Callers compare SHA-256 digests, whose
 * length is public, so unequal lengths may return at once.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
