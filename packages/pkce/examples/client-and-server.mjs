// Both sides of PKCE in one script: run `pnpm --filter @portcullis/pkce example` after a build.
import { createPkcePair, verifyCodeChallenge } from '@portcullis/pkce';

// Client: keep the verifier, send the challenge with the authorization request.
const { codeVerifier, codeChallenge } = await createPkcePair();
const authorize = new URL('https://auth.example.com/authorize');
authorize.searchParams.set('code_challenge', codeChallenge);
authorize.searchParams.set('code_challenge_method', 'S256');
console.log('authorization request:', authorize.href);

// Server: at the token endpoint, check the verifier against the stored challenge.
console.log('right verifier accepted:', await verifyCodeChallenge(codeVerifier, codeChallenge));
console.log(
  'wrong verifier accepted:',
  await verifyCodeChallenge(`${codeVerifier.slice(1)}x`, codeChallenge),
);
