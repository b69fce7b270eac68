import { CodedTypeError } from './errors.js';

// Printable, and free of the characters that would need escaping or end the item early.
const NAME = /^[A-Za-z0-9 !#$%&'()*+,./:<=>?@[\]^_`{|}~-]{1,64}$/;

/** The policy as an sf-item of `RateLimit-Policy`: a quoted name, then `q` and `w`. */
export function policyItem(name: string, quota: number, windowSeconds: number): string {
  if (!NAME.test(name)) {
    throw new CodedTypeError(
      `"name" must be 1 to 64 printable ASCII characters without '"', '\\' or ';'`,
      'ERR_INVALID_ARG_VALUE',
    );
  }
  return `"${name}";q=${quota};w=${windowSeconds}`;
}

/** The quoted name at the start of a policy item (names never contain `;`). */
export function policyName(item: string): string {
  const end = item.indexOf(';');
  return end === -1 ? item : item.slice(0, end);
}
