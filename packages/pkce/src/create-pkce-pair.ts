import { createCodeChallenge } from './create-code-challenge.js';
import { createCodeVerifier } from './create-code-verifier.js';

/** A verifier to keep and the challenge to send in the authorization request. */
export interface PkcePair {
  codeVerifier: string;
  codeChallenge: string;
  codeChallengeMethod: 'S256';
}

/**
 * Creates a verifier and its S256 challenge in one call, for the client side of
 * [RFC 7636 §4.1–4.3](https://www.rfc-editor.org/rfc/rfc7636#section-4.1).
 *
 * @example
 * const { codeVerifier, codeChallenge } = await createPkcePair();
 * url.searchParams.set('code_challenge', codeChallenge);
 * url.searchParams.set('code_challenge_method', 'S256');
 */
export async function createPkcePair(length = 64): Promise<PkcePair> {
  const codeVerifier = createCodeVerifier(length);
  return {
    codeVerifier,
    codeChallenge: await createCodeChallenge(codeVerifier),
    codeChallengeMethod: 'S256',
  };
}
