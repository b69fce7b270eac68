import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkBinding,
  createMemoryReplayStore,
  createNonceIssuer,
  DpopProofError,
  dpopChallenge,
  dpopNonceHeader,
  type NonceIssuer,
  parseAuthorizationHeader,
  verifyProof,
} from '../src/index.js';

// oauth4webapi's DPoP() handle makes the proofs; a real HTTP server on 127.0.0.1 checks them
// with verifyProof, the way an authorization server and an MCP resource server will.

interface Listening {
  server: Server;
  base: string;
  seen: { dpop?: string | undefined; jkt?: string }[];
}

async function listen(
  handle: (req: IncomingMessage, url: string, body: string) => Promise<Response>,
): Promise<Listening> {
  const seen: Listening['seen'] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${req.url}`;
    const response = await handle(req, url, Buffer.concat(chunks).toString());
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(await response.text());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

function json(status: number, body: unknown, extra: [string, string][] = []): Response {
  const headers = new Headers(extra);
  headers.set('content-type', 'application/json');
  headers.set('cache-control', 'no-store');
  return new Response(JSON.stringify(body), { status, headers });
}

let as: Listening;
let rs: Listening;
let asNonces: NonceIssuer;
let rsNonces: NonceIssuer;
const replay = createMemoryReplayStore();
/** access token → the jkt it is bound to (what cnf.jkt would carry in a JWT) */
const issued = new Map<string, string>();

beforeAll(async () => {
  asNonces = createNonceIssuer({ secret: 'authorization server nonce secret 32+' });
  rsNonces = createNonceIssuer({ secret: 'resource server nonce secret, 32 bytes+' });
  as = await listen(async (req, url) => {
    try {
      const proof = await verifyProof(req.headers.dpop as string | undefined, {
        method: req.method!,
        url,
        nonce: asNonces,
        replay,
      });
      as.seen.push({ dpop: req.headers.dpop as string, jkt: proof.jkt });
      const token = crypto.randomUUID();
      issued.set(token, proof.jkt);
      return json(200, { access_token: token, token_type: 'DPoP', expires_in: 300 });
    } catch (error) {
      if (!(error instanceof DpopProofError)) throw error;
      return json(400, error.toResponseObject(), [dpopNonceHeader(await asNonces.issue())]);
    }
  });
  rs = await listen(async (req, url) => {
    const credentials = parseAuthorizationHeader(req.headers.authorization);
    if (credentials.scheme !== 'dpop') {
      return new Response(null, { status: 401, headers: { 'www-authenticate': dpopChallenge() } });
    }
    try {
      const proof = await verifyProof(req.headers.dpop as string | undefined, {
        method: req.method!,
        url,
        accessToken: credentials.token,
        nonce: rsNonces,
        replay,
      });
      if (!checkBinding(issued.get(credentials.token), proof.jkt)) {
        const challenge = dpopChallenge({
          error: 'invalid_token',
          errorDescription: 'Invalid DPoP key binding',
        });
        return new Response(null, { status: 401, headers: { 'www-authenticate': challenge } });
      }
      rs.seen.push({ dpop: req.headers.dpop as string, jkt: proof.jkt });
      return json(200, { jkt: proof.jkt });
    } catch (error) {
      if (!(error instanceof DpopProofError)) throw error;
      return new Response(null, {
        status: 401,
        headers: [
          [
            'www-authenticate',
            dpopChallenge({ error: error.error, errorDescription: error.message }),
          ],
          dpopNonceHeader(await rsNonces.issue()),
        ],
      });
    }
  });
});

afterAll(async () => {
  await Promise.all([as, rs].map((l) => new Promise((r) => l.server.close(r))));
});

const insecure = { [oauth.allowInsecureRequests]: true } as const;

async function retryOnNonce<T>(attempt: () => Promise<T>): Promise<{ value: T; retried: boolean }> {
  try {
    return { value: await attempt(), retried: false };
  } catch (error) {
    if (!oauth.isDPoPNonceError(error)) throw error;
    return { value: await attempt(), retried: true };
  }
}

const client: oauth.Client = { client_id: 'agent' };

/** A client-credentials token bound to `DPoP`'s key, retried once if a nonce is asked for. */
function clientCredentials(DPoP: oauth.DPoPHandle, scope?: string) {
  const server: oauth.AuthorizationServer = { issuer: as.base, token_endpoint: `${as.base}/token` };
  return retryOnNonce(async () =>
    oauth.processClientCredentialsResponse(
      server,
      client,
      await oauth.clientCredentialsGrantRequest(
        server,
        client,
        oauth.None(),
        scope ? { scope } : {},
        { DPoP, ...insecure },
      ),
    ),
  );
}

describe("oauth4webapi's DPoP proofs, verified by verifyProof over HTTP", () => {
  it.each(['ES256', 'PS256', 'Ed25519'] as const)(
    '%s: token request (nonce asked for, then given), then resource requests with ath',
    async (alg) => {
      const DPoP = oauth.DPoP(client, await oauth.generateKeyPair(alg));
      const jkt = await DPoP.calculateThumbprint();

      const token = await clientCredentials(DPoP, 'read');
      expect(token.retried).toBe(true); // use_dpop_nonce first, as RFC 9449 §8 describes
      expect(token.value.token_type).toBe('dpop');
      expect(as.seen.at(-1)?.jkt).toBe(jkt);

      const call = () =>
        oauth
          .protectedResourceRequest(
            token.value.access_token,
            'GET',
            new URL(`${rs.base}/mcp?session=1`),
            undefined,
            undefined,
            { DPoP, ...insecure },
          )
          .then(async (response) => {
            if (response.status !== 200) throw new Error(`status ${response.status}`);
            return response.json();
          });
      const first = await retryOnNonce(call);
      expect(first.retried).toBe(true); // the resource server's own nonce
      expect(first.value).toEqual({ jkt });
      const second = await retryOnNonce(call);
      expect(second.retried).toBe(false); // the handle kept the nonce
      expect(second.value).toEqual({ jkt });
    },
  );

  it('a proof that was accepted, sent again, is refused as a replay', async () => {
    const { dpop } = rs.seen.at(-1)!;
    const token = [...issued].find(([, jkt]) => jkt === rs.seen.at(-1)!.jkt)![0];
    const response = await fetch(`${rs.base}/mcp?session=1`, {
      headers: { authorization: `DPoP ${token}`, dpop: dpop! },
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_dpop_proof"');
    expect(response.headers.get('www-authenticate')).toContain('used before');
  });

  it("a token used with another client's key is refused: invalid_token, key binding", async () => {
    const owner = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));
    const thief = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));
    const { value } = await clientCredentials(owner);
    const call = () =>
      oauth.protectedResourceRequest(
        value.access_token,
        'GET',
        new URL(`${rs.base}/mcp`),
        undefined,
        undefined,
        {
          DPoP: thief,
          ...insecure,
        },
      );
    const error = await retryOnNonce(call).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(oauth.WWWAuthenticateChallengeError);
    expect((error as oauth.WWWAuthenticateChallengeError).cause[0]?.parameters.error).toBe(
      'invalid_token',
    );
  });
});
