import { CodedTypeError } from './lib/errors.js';

/** RFC 9449 §8.1: `nonce = 1*NQCHAR`, NQCHAR = %x21 / %x23-5B / %x5D-7E. */
const NONCE = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/**
 * The `DPoP-Nonce` response header ([RFC 9449 §8.1](https://www.rfc-editor.org/rfc/rfc9449#section-8.1))
 * as a `[name, value]` pair for `Headers`, checked against the RFC's syntax (a `TypeError`
 * otherwise). Browsers read it only when CORS exposes it: add `DPoP-Nonce` to
 * `Access-Control-Expose-Headers`.
 *
 * @example
 * const headers = new Headers([dpopNonceHeader(await nonces.issue())]);
 */
export function dpopNonceHeader(nonce: string): ['DPoP-Nonce', string] {
  if (typeof nonce !== 'string' || !NONCE.test(nonce)) {
    throw new CodedTypeError(
      '"nonce" must be one or more of the characters RFC 9449 §8.1 allows (NQCHAR)',
      'ERR_INVALID_ARG_VALUE',
    );
  }
  return ['DPoP-Nonce', nonce];
}
