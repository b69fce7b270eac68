import { createPkcePair } from '@portcullis/pkce';
import { slidingWindow } from '@portcullis/rate-limit';
import { describe, expect, it } from 'vitest';
import { nodePinnedFetch } from '../src/node/index.js';
import { loopbackDocuments } from './support/loopback-documents.js';
import { authorizeParams, exchange, ISSUER, RESOURCE, setup } from './support/setup.js';

/** A real HTTP server publishing client metadata documents on 127.0.0.1. */
const documents = loopbackDocuments();
const { hits, routes } = documents;

const CALLBACK = 'http://127.0.0.1:7777/callback';

function serveDoc(
  path: string,
  doc: (self: string) => Record<string, unknown>,
  headers: Record<string, string> = {},
) {
  routes.set(path, (res, self) => {
    res
      .writeHead(200, { 'Content-Type': 'application/json', ...headers })
      .end(JSON.stringify(doc(self)));
  });
  hits.delete(path);
  return `${documents.origin}${path}`;
}

const pkce = await createPkcePair();
const request = (clientId: string, extra: Record<string, string> = {}) =>
  authorizeParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: CALLBACK,
    code_challenge: pkce.codeChallenge,
    code_challenge_method: 'S256',
    state: 's',
    resource: RESOURCE,
    ...extra,
  });
const jsonRequest = new Request(`${ISSUER}/authorize`, { headers: { Accept: 'application/json' } });

async function shownError(as: Awaited<ReturnType<typeof setup>>['as'], clientId: string) {
  const result = await as.authorization.parse(request(clientId), { request: jsonRequest });
  expect(result.ok).toBe(false);
  if (result.ok) throw new Error('unreachable');
  expect(result.response.headers.get('location')).toBeNull();
  return (await result.response.json()) as { error: string; error_description: string };
}

const insecure = { clientIdMetadataDocuments: { allowInsecure: true, timeoutMs: 500 } };

describe('Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document)', () => {
  it('CIMD §4 / MCP 2025-11-25: an https client_id URL is fetched; its redirect_uris and name are used through the whole flow', async () => {
    const clientId = serveDoc('/good.json', (self) => ({
      client_id: self,
      client_name: 'Doc Client',
      redirect_uris: [CALLBACK],
    }));
    const { as } = await setup(insecure);
    const result = await as.authorization.parse(request(clientId));
    if (!result.ok) throw new Error(`expected ok, got ${result.response.status}`);
    expect(result.pending.clientName).toBe('Doc Client');
    expect(result.pending.clientId).toBe(clientId);
    const location = new URL((await result.pending.approve('u')).headers.get('location')!);
    const { response, body } = await exchange(as, {
      grant_type: 'authorization_code',
      code: location.searchParams.get('code')!,
      code_verifier: pkce.codeVerifier,
      redirect_uri: CALLBACK,
      client_id: clientId,
    });
    expect(response.status).toBe(200);
    expect(body.token_type).toBe('Bearer');
  });

  it('CIMD §4.1: a document whose client_id differs from its URL is refused (shown, not redirected)', async () => {
    const clientId = serveDoc('/liar.json', () => ({
      client_id: 'https://trusted.example/client.json',
      redirect_uris: [CALLBACK],
    }));
    const { as } = await setup(insecure);
    const error = await shownError(as, clientId);
    expect(error.error).toBe('invalid_client');
    expect(error.error_description).toContain('differs');
  });

  it('CIMD §4.1: a client_id differing only by a trailing slash is refused too', async () => {
    const clientId = serveDoc('/slash.json', (self) => ({
      client_id: `${self}/`,
      redirect_uris: [CALLBACK],
    }));
    const { as } = await setup(insecure);
    expect((await shownError(as, clientId)).error).toBe('invalid_client');
  });

  it('CIMD §4: a redirect_uri not in the document is shown, not redirected', async () => {
    const clientId = serveDoc('/narrow.json', (self) => ({
      client_id: self,
      redirect_uris: ['http://127.0.0.1:7777/other'],
    }));
    const { as } = await setup(insecure);
    expect((await shownError(as, clientId)).error).toBe('invalid_request');
  });

  it('CIMD §4: a document asking for a shared-secret auth method is refused', async () => {
    const clientId = serveDoc('/secret.json', (self) => ({
      client_id: self,
      redirect_uris: [CALLBACK],
      token_endpoint_auth_method: 'client_secret_basic',
    }));
    const { as } = await setup(insecure);
    expect((await shownError(as, clientId)).error_description).toContain('none');
  });

  it('CIMD §6.5 (SSRF): a client_id URL on a loopback or private IP literal is refused without any request', async () => {
    const { as } = await setup();
    for (const host of [
      '127.0.0.1',
      '10.1.2.3',
      '192.168.0.10',
      '169.254.169.254',
      '[::1]',
      '[fd00::1]',
      '[::ffff:7f00:1]',
    ]) {
      const error = await shownError(as, `https://${host}/client.json`);
      expect(error.error_description, host).toContain('non-public');
    }
    const path = '/never.json';
    serveDoc(path, (self) => ({ client_id: self, redirect_uris: [CALLBACK] }));
    await shownError(as, `https://127.0.0.1:${new URL(documents.origin).port}${path}`);
    expect(hits.get(path)).toBeUndefined();
  });

  it('CIMD §6.5 (SSRF): a host name resolving to a private address is refused (pluggable resolver)', async () => {
    const resolved: string[] = [];
    const { as } = await setup({
      clientIdMetadataDocuments: {
        resolveHost: async (host) => {
          resolved.push(host);
          return host === 'internal.example.com'
            ? ['203.0.113.9', '10.0.0.7']
            : ['::ffff:192.168.1.1'];
        },
      },
    });
    expect(
      (await shownError(as, 'https://internal.example.com/client.json')).error_description,
    ).toContain('non-public');
    expect(
      (await shownError(as, 'https://mapped.example.com/client.json')).error_description,
    ).toContain('non-public');
    expect(resolved).toEqual(['internal.example.com', 'mapped.example.com']);
  });

  it('CIMD §6.5 (SSRF): on Node.js the default resolver (node:dns) runs before any fetch; localhost names are refused outright', async () => {
    const { as } = await setup();
    // The sandbox has no DNS: the name fails in the resolver, before any connection is tried.
    expect(
      (await shownError(as, 'https://unresolvable.invalid/client.json')).error_description,
    ).toContain('could not be resolved');
    expect((await shownError(as, 'https://localhost/client.json')).error_description).toContain(
      'non-public',
    );
    expect((await shownError(as, 'https://api.localhost/client.json')).error_description).toContain(
      'non-public',
    );
  });

  it('CIMD §3: client_id URLs must be https (unless allowInsecure), with a path, no fragment, no credentials, no dot segments', async () => {
    const strict = await setup();
    // An http client_id is not a URL client id at all in strict mode: it is an unknown client.
    expect((await shownError(strict.as, `${documents.origin}/good.json`)).error).toBe(
      'invalid_client',
    );
    const { as } = await setup(insecure);
    for (const bad of [
      `${documents.origin}/`,
      `${documents.origin}/a/../b.json`,
      `http://u:p@127.0.0.1:1/c.json`,
      `${documents.origin}/c.json#f`,
    ]) {
      expect((await shownError(as, bad)).error, bad).toBe('invalid_client');
    }
  });

  it('CIMD §6: redirects are not followed', async () => {
    routes.set('/moved.json', (res) => res.writeHead(302, { Location: '/good.json' }).end());
    const { as } = await setup(insecure);
    expect((await shownError(as, `${documents.origin}/moved.json`)).error_description).toContain(
      'redirect',
    );
  });

  it('CIMD §6: an oversized document is cut off and refused', async () => {
    let written = 0;
    routes.set('/huge.json', (res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const chunk = Buffer.alloc(16_384, 0x20);
      const pump = () => {
        while (written < 50_000_000) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('close', () => {});
      pump();
    });
    const { as } = await setup({
      clientIdMetadataDocuments: { allowInsecure: true, maxBytes: 5000 },
    });
    expect((await shownError(as, `${documents.origin}/huge.json`)).error_description).toContain(
      'exceeds 5000 bytes',
    );
    expect(written).toBeLessThan(50_000_000);
  });

  it('CIMD §6: a document that does not arrive in time is refused', async () => {
    routes.set('/slow.json', () => {});
    const { as } = await setup({
      clientIdMetadataDocuments: { allowInsecure: true, timeoutMs: 150 },
    });
    expect((await shownError(as, `${documents.origin}/slow.json`)).error_description).toContain(
      'could not be fetched',
    );
  });

  it('CIMD §6 / RFC 9111 §5.2.2.1: Cache-Control max-age is honoured; no-store is not cached', async () => {
    const { as, clock } = await setup(insecure);
    const cached = serveDoc(
      '/cached.json',
      (self) => ({ client_id: self, redirect_uris: [CALLBACK] }),
      { 'Cache-Control': 'max-age=120' },
    );
    await as.authorization.parse(request(cached));
    await as.authorization.parse(request(cached));
    expect(hits.get('/cached.json')).toBe(1);
    clock.now += 121_000;
    await as.authorization.parse(request(cached));
    expect(hits.get('/cached.json')).toBe(2);
    const uncached = serveDoc(
      '/uncached.json',
      (self) => ({ client_id: self, redirect_uris: [CALLBACK] }),
      { 'Cache-Control': 'no-store' },
    );
    await as.authorization.parse(request(uncached));
    await as.authorization.parse(request(uncached));
    expect(hits.get('/uncached.json')).toBe(2);
  });

  it('CIMD §6: the cache lifetime is bounded by maxCacheSeconds', async () => {
    const { as, clock } = await setup({
      clientIdMetadataDocuments: { allowInsecure: true, maxCacheSeconds: 100 },
    });
    const long = serveDoc(
      '/long.json',
      (self) => ({ client_id: self, redirect_uris: [CALLBACK] }),
      { 'Cache-Control': 'max-age=31536000' },
    );
    await as.authorization.parse(request(long));
    clock.now += 101_000;
    await as.authorization.parse(request(long));
    expect(hits.get('/long.json')).toBe(2);
  });

  it('metadata advertises client_id_metadata_document_supported only when enabled', async () => {
    const { as } = await setup({ clientIdMetadataDocuments: { enabled: false } });
    const body = await (await as.handle(
      new Request(`${ISSUER}/.well-known/oauth-authorization-server`),
    ))!.json();
    expect(body.client_id_metadata_document_supported).toBe(false);
  });
});

describe('CIMD fetching is bounded and pinned (issue: abuse resistance)', () => {
  it('nodePinnedFetch connects to the given address and never resolves the host name again', async () => {
    const path = serveDoc('/pinned.json', (self) => ({
      client_id: self,
      redirect_uris: [CALLBACK],
    }));
    const port = new URL(path).port;
    // rebind.invalid resolves nowhere (RFC 6761): only the pinned address can be reached.
    const response = await nodePinnedFetch(
      `http://rebind.invalid:${port}/pinned.json`,
      '127.0.0.1',
    );
    expect(response.status).toBe(200);
    expect(hits.get('/pinned.json')).toBe(1);
    // The server listens on 127.0.0.1 only: pinned to 127.0.0.2 the same URL is refused.
    await expect(
      nodePinnedFetch(`http://rebind.invalid:${port}/pinned.json`, '127.0.0.2'),
    ).rejects.toMatchObject({ code: 'ECONNREFUSED', address: '127.0.0.2' });
  });

  it('DNS rebinding: the connection goes to the address that passed the check, whatever the resolver says next', async () => {
    const answers = [['93.184.216.34'], ['127.0.0.1']];
    const lookups: string[] = [];
    const connects: string[] = [];
    const clientId = 'https://rebind.example.com/client.json';
    const { as } = await setup({
      clientIdMetadataDocuments: {
        resolveHost: async (host) => {
          lookups.push(host);
          return answers.shift() ?? ['127.0.0.1'];
        },
        connect: async (url, address) => {
          connects.push(`${address} ${url}`);
          return Response.json({ client_id: clientId, redirect_uris: [CALLBACK] });
        },
      },
    });
    const result = await as.authorization.parse(request(clientId));
    expect(result.ok).toBe(true);
    expect(lookups).toEqual(['rebind.example.com']);
    expect(connects).toEqual([`93.184.216.34 ${clientId}`]);
  });

  it('a failed document is remembered briefly: no new fetch until failureCacheSeconds have passed', async () => {
    routes.delete('/missing.json');
    hits.delete('/missing.json');
    const clientId = `${documents.origin}/missing.json`;
    const { as, clock } = await setup(insecure);
    for (let i = 0; i < 5; i++) {
      expect((await shownError(as, clientId)).error_description).toContain('HTTP 404');
    }
    expect(hits.get('/missing.json')).toBe(1);
    clock.now += 61_000;
    await shownError(as, clientId);
    expect(hits.get('/missing.json')).toBe(2);
  });

  it('fetch budgets per caller address and global are spent before the fetch: over them, 429 and nothing is fetched', async () => {
    const { as } = await setup({
      ...insecure,
      rateLimit: { cimd: { perIp: slidingWindow(2, 60), global: slidingWindow(3, 60) } },
      getClientIp: (r) => r.headers.get('x-test-ip') ?? undefined,
    });
    const parse = async (n: number, ip: string) => {
      const path = `/budget-${n}.json`;
      const clientId = serveDoc(path, (self) => ({ client_id: self, redirect_uris: [CALLBACK] }));
      const result = await as.authorization.parse(request(clientId), {
        request: new Request(`${ISSUER}/authorize`, {
          headers: { Accept: 'application/json', 'x-test-ip': ip },
        }),
      });
      return { status: result.ok ? 200 : result.response.status, fetched: hits.get(path) ?? 0 };
    };
    expect(await parse(1, '5.5.5.5')).toEqual({ status: 200, fetched: 1 });
    expect(await parse(2, '5.5.5.5')).toEqual({ status: 200, fetched: 1 });
    expect(await parse(3, '5.5.5.5')).toEqual({ status: 429, fetched: 0 });
    expect(await parse(4, '6.6.6.6')).toEqual({ status: 200, fetched: 1 });
    expect(await parse(5, '7.7.7.7')).toEqual({ status: 429, fetched: 0 });
  });

  it('an http client_id URL without the development allowance says https is required and how to allow http', async () => {
    const { as } = await setup();
    const error = await shownError(as, 'http://app.example.com/client.json');
    expect(error.error).toBe('invalid_client');
    expect(error.error_description).toContain('must use https');
    expect(error.error_description).toContain('CIMD_ALLOW_INSECURE');
  });

  it('the pending authorization names the client_id URL host beside the declared name', async () => {
    const clientId = serveDoc('/named.json', (self) => ({
      client_id: self,
      client_name: 'Totally Official App',
      redirect_uris: [CALLBACK],
    }));
    const { as } = await setup(insecure);
    const result = await as.authorization.parse(request(clientId));
    if (!result.ok) throw new Error('expected ok');
    expect(result.pending.clientIdHost).toBe(new URL(clientId).host);
    expect(result.pending.clientName).toBe('Totally Official App');
  });
});
