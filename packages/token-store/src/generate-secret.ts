import { CodedTypeError, describe } from './lib/errors.js';
import { randomBase64url } from './lib/random-pool.js';

/**
 * Returns `bytes` random bytes from `crypto.getRandomValues` (drawn 4 KiB at a time, each byte
 * used once), base64url without padding. The default and the minimum are 32 bytes (256 bits),
 * beyond guessing
 * ([RFC 6749 §10.10](https://www.rfc-editor.org/rfc/rfc6749#section-10.10),
 * [RFC 6819 §5.1.4.2.2](https://www.rfc-editor.org/rfc/rfc6819#section-5.1.4.2.2)).
 *
 * @example
 * const token = generateSecret(); // 43 characters, e.g. 'mO3q...'
 */
export function generateSecret(bytes = 32): string {
  if (typeof bytes !== 'number') {
    throw new CodedTypeError(
      `"bytes" must be a number, received ${describe(bytes)}`,
      'ERR_INVALID_ARG_TYPE',
    );
  }
  if (!Number.isInteger(bytes) || bytes < 32 || bytes > 1024) {
    throw new CodedTypeError(
      `"bytes" must be an integer from 32 (256 bits) to 1024, received ${bytes}`,
      'ERR_INVALID_ARG_VALUE',
    );
  }
  return randomBase64url(bytes);
}
