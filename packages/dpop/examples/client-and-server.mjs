// Both sides of DPoP in one script: run `pnpm --filter @portcullis/dpop example` after a build.
// A token endpoint that requires server nonces, and a resource server that checks the proof,
// the access token hash and the key binding; fetch-style handlers called in-process.
import {
  checkBinding,
  createMemoryReplayStore,
  createNonceIssuer,
  createProof,
  DpopProofError,
  dpopChallenge,
  dpopNonceHeader,
  generateProofKey,
  parseAuthorizationHeader,
  verifyProof,
} from '@portcullis/dpop';

const replay = createMemoryReplayStore(); // one process; use a shared store behind a load balancer
const nonces = createNonceIssuer({ secret: crypto.getRandomValues(new Uint8Array(32)) });
const boundTo = new Map(); // access token → jkt (a JWT access token carries it as cnf.jkt)

async function tokenEndpoint(request) {
  try {
    const proof = await verifyProof(request.headers.get('dpop'), {
      method: request.method,
      url: request.url,
      nonce: nonces,
      replay,
    });
    const accessToken = crypto.randomUUID();
    boundTo.set(accessToken, proof.jkt);
    return Response.json({ access_token: accessToken, token_type: 'DPoP', expires_in: 300 });
  } catch (error) {
    if (!(error instanceof DpopProofError)) throw error;
    return Response.json(error.toResponseObject(), {
      status: 400,
      headers: [dpopNonceHeader(await nonces.issue())],
    });
  }
}

async function resourceServer(request) {
  const credentials = parseAuthorizationHeader(request.headers.get('authorization'));
  const challenge = (params) => ({
    'WWW-Authenticate': dpopChallenge({ ...params, algorithms: ['ES256'] }),
  });
  if (credentials.scheme !== 'dpop')
    return new Response(null, { status: 401, headers: challenge({}) });
  try {
    const proof = await verifyProof(request.headers.get('dpop'), {
      method: request.method,
      url: request.url,
      accessToken: credentials.token,
      algorithms: ['ES256'],
      replay,
    });
    if (!checkBinding(boundTo.get(credentials.token), proof.jkt)) {
      const headers = challenge({
        error: 'invalid_token',
        errorDescription: 'Invalid DPoP key binding',
      });
      return new Response(null, { status: 401, headers });
    }
    return Response.json({ hello: proof.jkt });
  } catch (error) {
    if (!(error instanceof DpopProofError)) throw error;
    const headers = challenge({ error: error.error, errorDescription: error.message });
    return new Response(null, { status: 401, headers });
  }
}

// The client: one key for the session, a new proof for every request.
const key = await generateProofKey();
const tokenUrl = 'https://auth.example.com/token';
const post = async (nonce) =>
  tokenEndpoint(
    new Request(tokenUrl, {
      method: 'POST',
      headers: { DPoP: await createProof({ ...key, method: 'POST', url: tokenUrl, nonce }) },
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    }),
  );
let response = await post();
console.log('token request without a nonce:', response.status, (await response.json()).error);
response = await post(response.headers.get('dpop-nonce'));
const { access_token: accessToken, token_type: tokenType } = await response.json();
console.log('with the nonce:', response.status, tokenType);

const mcpUrl = 'https://mcp.example.com/mcp';
const call = async (signer, proof) =>
  resourceServer(
    new Request(mcpUrl, {
      method: 'POST',
      headers: {
        Authorization: `DPoP ${accessToken}`,
        DPoP: proof ?? (await createProof({ ...signer, method: 'POST', url: mcpUrl, accessToken })),
      },
    }),
  );
response = await call(key);
console.log(
  'resource request:',
  response.status,
  (await response.json()).hello === boundTo.get(accessToken),
);
const proof = await createProof({ ...key, method: 'POST', url: mcpUrl, accessToken });
await call(key, proof);
response = await call(key, proof);
console.log('the same proof again:', response.status, response.headers.get('www-authenticate'));
response = await call(await generateProofKey());
console.log(
  'the token with another key:',
  response.status,
  response.headers.get('www-authenticate'),
);
