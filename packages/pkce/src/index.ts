export { createCodeChallenge } from './create-code-challenge.js';
export { createCodeVerifier } from './create-code-verifier.js';
export { createPkcePair, type PkcePair } from './create-pkce-pair.js';
export { PkceError, type PkceErrorCode, UnsupportedChallengeMethodError } from './errors.js';
export { isCodeVerifier } from './is-code-verifier.js';
export { type ArgumentErrorCode, CodedTypeError } from './lib/errors.js';
export { verifyCodeChallenge } from './verify-code-challenge.js';
