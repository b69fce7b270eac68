import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type AuthInfo,
  cachedVerifier,
  InvalidTokenError,
  jwtVerifier,
  type RevocationFeed,
  revocationFeed,
  VerifierUnavailableError,
} from '../src/index.js';
import { createTestIssuer, type TestIssuer } from '../src/testing/index.js';
import { callTool, parseChallenge, post, startServer, type TestServer } from './support/server.js';

const CLIENT_ID = 'mcp-resource';
const CLIENT_SECRET = 's3cret: with spaces & symbols';
const hashOf = (jti: string) => createHash('sha256').update(jti, 'utf8').digest('base64url');

/**
 * The authorization server's feed as its contract says: GET with HTTP Basic, pages of
 * `{ revoked: [{ jti_sha256, exp }], cursor, more }` in a stable order, `?cursor=` to go on,
 * 400 for a cursor it did not hand out. Cursors are positions in the append-only list.
 */
class FeedServer {
  entries: { jti_sha256: string; exp: number }[] = [];
  pageSize = 2;
  /** Answer every request with this status instead (503: an outage). */
  failWith: number | undefined;
  /** Cursors from before this generation are refused (the server restarted). */
  generation = 1;
  requests: { authorization: string | undefined; url: string }[] = [];
  private server: Server | undefined;
  url = '';

  async start() {
    this.server = createServer((req, res) => this.answer(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/revocations`;
  }

  revoke(jti: string, exp = Math.floor(Date.now() / 1000) + 3600) {
    this.entries.push({ jti_sha256: hashOf(jti), exp });
  }

  private answer(req: IncomingMessage, res: import('node:http').ServerResponse) {
    this.requests.push({ authorization: req.headers.authorization, url: req.url ?? '' });
    const expected = `Basic ${Buffer.from(
      `${encodeURIComponent(CLIENT_ID)}:${encodeURIComponent(CLIENT_SECRET).replace(/%20/g, '+')}`,
    ).toString('base64')}`;
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (this.failWith !== undefined)
      return json(this.failWith, { error: 'temporarily_unavailable' });
    if (req.headers.authorization !== expected) return json(401, { error: 'invalid_client' });
    const cursor = new URL(req.url ?? '/', 'http://x').searchParams.get('cursor');
    let from = 0;
    if (cursor !== null) {
      const [generation, position] = cursor.split('.').map(Number);
      if (generation !== this.generation || !(position! <= this.entries.length))
        return json(400, { error: 'invalid_request' });
      from = position!;
    }
    const page = this.entries.slice(from, from + this.pageSize);
    const next = from + page.length;
    json(200, {
      revoked: page,
      cursor: `${this.generation}.${next}`,
      more: next < this.entries.length,
    });
  }

  close() {
    this.server?.closeAllConnections();
    return new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}

let feed: FeedServer;
const opened: RevocationFeed[] = [];
const open = (options: Partial<Parameters<typeof revocationFeed>[0]> = {}) => {
  const list = revocationFeed({
    endpoint: feed.url,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    intervalSeconds: 3600, // the tests poll with refresh()
    log: () => {},
    ...options,
  });
  opened.push(list);
  return list;
};

beforeAll(async () => {
  feed = new FeedServer();
  await feed.start();
});
afterEach(() => {
  for (const list of opened.splice(0)) list.close();
  feed.entries = [];
  feed.failWith = undefined;
  feed.requests = [];
});
afterAll(() => feed.close());

describe('revocationFeed: the denylist', () => {
  it('pages through the feed with HTTP Basic and the cursor, then polls from where it stopped', async () => {
    for (const jti of ['a', 'b', 'c', 'd', 'e']) feed.revoke(jti);
    const list = open();
    await list.ready;
    expect(list.size).toBe(5);
    for (const jti of ['a', 'b', 'c', 'd', 'e']) expect(list.isRevoked(hashOf(jti))).toBe(true);
    expect(list.isRevoked(hashOf('f'))).toBe(false);
    // Three pages of two: the first without a cursor, the others with the one handed out.
    expect(feed.requests.map((r) => new URL(r.url, 'http://x').search)).toEqual([
      '',
      '?cursor=1.2',
      '?cursor=1.4',
    ]);
    feed.revoke('f');
    await list.refresh();
    expect(list.isRevoked(hashOf('f'))).toBe(true);
    expect(feed.requests.at(-1)?.url).toBe('/revocations?cursor=1.5');
    // The secret travels only in the Authorization header, never in a URL.
    for (const { url } of feed.requests) expect(url).not.toContain('s3cret');
  });

  it('drops each entry once its token expired (300 s of clock tolerance after exp)', async () => {
    let now = Date.now();
    const seconds = () => Math.floor(now / 1000);
    feed.revoke('soon', seconds() + 10);
    feed.revoke('later', seconds() + 100);
    feed.revoke('already', seconds() - 301); // expired before it was read: never kept
    const list = open({ now: () => now });
    await list.ready;
    expect([list.isRevoked(hashOf('soon')), list.isRevoked(hashOf('later'))]).toEqual([true, true]);
    expect(list.size).toBe(2);
    now += 11_000; // past exp, within a verifier's clock tolerance: still refused
    await list.refresh();
    expect(list.isRevoked(hashOf('soon'))).toBe(true);
    now += 300_000;
    await list.refresh();
    expect(list.isRevoked(hashOf('soon'))).toBe(false);
    expect(list.isRevoked(hashOf('later'))).toBe(true);
    expect(list.size).toBe(1);
  });

  it('is bounded: past maxEntries the soonest to expire go first, logged once', async () => {
    const base = Math.floor(Date.now() / 1000);
    for (let i = 0; i < 5; i++) feed.revoke(`t${i}`, base + 100 + i);
    const lines: string[] = [];
    const list = open({ maxEntries: 3, log: (line) => lines.push(line) });
    await list.ready;
    expect(list.size).toBe(3);
    expect([0, 1, 2, 3, 4].map((i) => list.isRevoked(hashOf(`t${i}`)))).toEqual([
      false,
      false,
      true,
      true,
      true,
    ]);
    feed.revoke('t5', base + 200);
    await list.refresh();
    expect(list.size).toBe(3);
    expect(lines.filter((line) => line.includes('maxEntries'))).toHaveLength(1);
  });

  it('reads the whole feed again when its cursor is refused (the server restarted)', async () => {
    feed.revoke('a');
    const list = open();
    await list.ready;
    feed.generation = 2;
    feed.revoke('b');
    await list.refresh();
    expect(list.isRevoked(hashOf('b'))).toBe(true);
    expect(feed.requests.slice(-2).map((r) => r.url)).toEqual([
      '/revocations?cursor=1.1',
      '/revocations',
    ]);
    feed.generation = 1;
  });

  it('unreachable: keeps the list it has, says so once, and once again when it is back', async () => {
    feed.revoke('a');
    const lines: string[] = [];
    const list = open({ log: (line) => lines.push(line) });
    await list.ready;
    feed.failWith = 503;
    await list.refresh();
    await list.refresh();
    expect(list.isRevoked(hashOf('a'))).toBe(true);
    expect(list.isStale()).toBe(false); // no maxStalenessSeconds: open
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('answered HTTP 503');
    expect(lines[0]).toContain('serving with the 1 revocations held');
    feed.failWith = undefined;
    await list.refresh();
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('answering again');
    for (const line of lines) expect(line).not.toContain('s3cret');
  });

  it('an answer over 1 MiB is not read: the feed counts as failing, the list held stays', async () => {
    feed.revoke('a');
    const lines: string[] = [];
    const list = open({ log: (line) => lines.push(line) });
    await list.ready;
    const huge = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      // Streamed without a Content-Length: the reader has to stop by itself.
      res.write(`{"revoked":[${'{"jti_sha256":"x","exp":1},'.repeat(50_000)}`);
      res.end('{}],"cursor":"c","more":false}');
    });
    await new Promise<void>((resolve) => huge.listen(0, '127.0.0.1', resolve));
    try {
      const big = open({
        endpoint: `http://127.0.0.1:${(huge.address() as AddressInfo).port}/revocations`,
        log: (line) => lines.push(line),
      });
      await big.ready;
      expect(big.size).toBe(0);
      expect(lines.at(-1)).toContain('answered too much');
    } finally {
      huge.closeAllConnections();
      await new Promise<void>((resolve) => huge.close(() => resolve()));
    }
    expect(list.isRevoked(hashOf('a'))).toBe(true);
  });

  it('a server that is not there at all: the same, with a wrong secret as well', async () => {
    const lines: string[] = [];
    const gone = revocationFeed({
      endpoint: 'http://127.0.0.1:9/revocations',
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      intervalSeconds: 3600,
      log: (line) => lines.push(line),
    });
    opened.push(gone);
    await gone.ready;
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('could not be reached');
    const refused = open({ clientSecret: 'wrong', log: (line) => lines.push(line) });
    await refused.ready;
    expect(lines.at(-1)).toContain('answered HTTP 401');
    expect(lines.join('\n')).not.toContain('wrong');
  });

  it('fail closed: stale once maxStalenessSeconds pass without an answer, fresh again after one', async () => {
    let now = Date.now();
    const list = open({ maxStalenessSeconds: 30, now: () => now });
    await list.ready;
    expect(list.isStale()).toBe(false);
    feed.failWith = 500;
    now += 20_000;
    await list.refresh();
    expect(list.isStale()).toBe(false); // 20 s since the last answer
    now += 11_000;
    expect(list.isStale()).toBe(true); // 31 s
    feed.failWith = undefined;
    await list.refresh();
    expect(list.isStale()).toBe(false);
  });

  it('refuses options that cannot work', () => {
    const base = { endpoint: feed.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET };
    expect(() => revocationFeed({ ...base, endpoint: 'not a url' })).toThrow(TypeError);
    expect(() => revocationFeed({ ...base, intervalSeconds: 0 })).toThrow(TypeError);
    expect(() => revocationFeed({ ...base, maxStalenessSeconds: -1 })).toThrow(TypeError);
    expect(() => revocationFeed({ ...base, maxEntries: 0 })).toThrow(TypeError);
    expect(() =>
      jwtVerifier({ issuer: 'x', audience: 'http://a/mcp', revocations: {} as never }),
    ).toThrow(TypeError);
  });
});

describe('revocations in the verified-token cache', () => {
  const info = (jti: string | undefined): AuthInfo => ({
    token: 'unused',
    clientId: 'c',
    scopes: ['read'],
    expiresAt: Math.floor(Date.now() / 1000) + 3600,
    extra: { claims: jti === undefined ? {} : { jti } },
  });

  it('a cached token revoked later is no longer a hit: the verifier is asked, and refuses', async () => {
    const list = open();
    await list.ready;
    let calls = 0;
    const verifier = cachedVerifier(
      async () => {
        calls++;
        if (list.isRevoked(hashOf('jti-1'))) throw new InvalidTokenError('revoked');
        return info('jti-1');
      },
      { revocations: list },
    );
    await verifier('tok-1');
    await verifier('tok-1');
    expect(calls).toBe(1); // the second was a hit
    feed.revoke('jti-1');
    await list.refresh();
    await expect(verifier('tok-1')).rejects.toBeInstanceOf(InvalidTokenError);
    expect(calls).toBe(2);
  });

  it('a stale list turns every hit into a verification', async () => {
    let now = Date.now();
    const list = open({ maxStalenessSeconds: 5, now: () => now });
    await list.ready;
    let calls = 0;
    const verifier = cachedVerifier(
      async () => {
        calls++;
        return info('jti-2');
      },
      { revocations: list, now: () => now },
    );
    await verifier('tok-2');
    await verifier('tok-2');
    expect(calls).toBe(1);
    now += 6_000;
    await verifier('tok-2');
    expect(calls).toBe(2);
  });
});

describe('jwtVerifier({ revocations }) behind bearerAuth, over HTTP', () => {
  let issuer: TestIssuer;
  let server: TestServer;
  let list: RevocationFeed;
  let now = Date.now();

  beforeAll(async () => {
    issuer = await createTestIssuer();
  });
  afterAll(() => issuer.close());
  afterEach(() => server?.close());

  const start = async (options: Partial<Parameters<typeof revocationFeed>[0]> = {}) => {
    list = open({ now: () => now, ...options });
    await list.ready;
    server = await startServer({
      verifier: (resource) =>
        jwtVerifier({
          issuer: issuer.issuer,
          audience: resource,
          jwksUri: issuer.jwksUri,
          revocations: list,
        }),
    });
  };
  const mint = () =>
    issuer.mintToken({ sub: 'u', client_id: 'c', scope: 'read', aud: server.resource });
  const call = (token: string) =>
    post(server.url, callTool('whoami'), { Authorization: `Bearer ${token}` });

  it('a token listed before its first use, and one revoked while cached: 401 invalid_token', async () => {
    now = Date.now();
    await start();
    const [early, cached, other] = [await mint(), await mint(), await mint()];
    feed.revoke(decodeJwt(early).jti!);
    await list.refresh();
    const first = await call(early);
    expect(first.status).toBe(401);
    expect(parseChallenge(first.headers.get('www-authenticate')).params.error).toBe(
      'invalid_token',
    );
    expect(await first.json()).toMatchObject({ error_description: 'The access token was revoked' });

    expect((await call(cached)).status).toBe(200);
    expect((await call(cached)).status).toBe(200); // from the cache
    feed.revoke(decodeJwt(cached).jti!);
    await list.refresh();
    const refused = await call(cached);
    expect(refused.status).toBe(401);
    expect(parseChallenge(refused.headers.get('www-authenticate')).params.error).toBe(
      'invalid_token',
    );
    expect((await call(other)).status).toBe(200);
  });

  it('fail closed past maxStalenessSeconds: 503 for every token, served again once the feed answers', async () => {
    now = Date.now();
    await start({ maxStalenessSeconds: 10 });
    const token = await mint();
    expect((await call(token)).status).toBe(200);
    feed.failWith = 503;
    now += 11_000;
    await list.refresh();
    const closed = await call(token);
    expect(closed.status).toBe(503);
    expect(await closed.json()).toMatchObject({ error: 'temporarily_unavailable' });
    feed.failWith = undefined;
    await list.refresh();
    expect((await call(token)).status).toBe(200);
  });

  it('with revocations, a token without a jti cannot be checked and is refused', async () => {
    now = Date.now();
    await start();
    const token = await issuer.mintToken({
      sub: 'u',
      client_id: 'c',
      scope: 'read',
      aud: server.resource,
      jti: undefined,
    });
    expect(decodeJwt(token).jti).toBeUndefined();
    const refused = await call(token);
    expect(refused.status).toBe(401);
  });

  it('the verifier alone: VerifierUnavailableError when stale, InvalidTokenError when listed', async () => {
    now = Date.now();
    await start({ maxStalenessSeconds: 10 });
    const verify = jwtVerifier({
      issuer: issuer.issuer,
      audience: server.resource,
      jwksUri: issuer.jwksUri,
      revocations: list,
      cache: false,
    });
    const token = await mint();
    await expect(verify(token)).resolves.toMatchObject({ clientId: 'c' });
    feed.revoke(decodeJwt(token).jti!);
    await list.refresh();
    await expect(verify(token)).rejects.toBeInstanceOf(InvalidTokenError);
    feed.failWith = 503;
    now += 11_000;
    await list.refresh();
    await expect(verify(await mint())).rejects.toBeInstanceOf(VerifierUnavailableError);
  });
});
