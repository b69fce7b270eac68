/**
 * Compares two ASCII strings without an early exit, so the time taken does not tell an
 * attacker how many leading characters matched. Both sides are SHA-256 digests in base64url
 * here, so their length (43) is public and a length mismatch may return at once.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
