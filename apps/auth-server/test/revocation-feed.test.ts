import { createHash } from 'node:crypto';
import { type AuthServer, authorizeOverHttp, devLogin } from '@portcullis/internal-testing/apps';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { revokeOnAccountPage } from './helpers/account';
import { startApp } from './helpers/app';
import { registerClient } from './helpers/client';

// The resource server's client: the guide's static client, confidential, allowed to read the feed.
const RS_ID = 'feed-resource-server';
const RS_SECRET = 'feed-resource-server-secret-0123456789abcdef';
const rsAuth = { authorization: `Basic ${btoa(`${RS_ID}:${RS_SECRET}`)}` };

const jtiSha256 = (token: string) =>
  createHash('sha256')
    .update(decodeJwt(token).jti as string)
    .digest('base64url');

describe('the revocation feed of the built app', () => {
  let app: AuthServer;
  beforeAll(async () => {
    app = await startApp({
      env: {
        OAUTH_CLIENT_ID: RS_ID,
        OAUTH_CLIENT_SECRET: RS_SECRET,
        OAUTH_REDIRECT_URI: 'http://127.0.0.1:9/unused',
        INTROSPECTION_CLIENT_IDS: RS_ID,
      },
    });
  });
  afterAll(async () => {
    await app?.close();
  });

  /** Every jti hash listed, from the beginning. */
  async function listed(): Promise<Map<string, number>> {
    const seen = new Map<string, number>();
    let cursor: string | undefined;
    for (;;) {
      const query = cursor === undefined ? '' : `?cursor=${encodeURIComponent(cursor)}`;
      const response = await fetch(`${app.url}/revocations${query}`, { headers: rsAuth });
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toContain('no-store');
      const page = (await response.json()) as {
        revoked: { jti_sha256: string; exp: number }[];
        cursor: string;
        more: boolean;
      };
      for (const entry of page.revoked) seen.set(entry.jti_sha256, entry.exp);
      cursor = page.cursor;
      if (!page.more) return seen;
    }
  }

  it('is advertised, and refused to anyone but INTROSPECTION_CLIENT_IDS', async () => {
    const metadata = (await (
      await fetch(`${app.url}/.well-known/oauth-authorization-server`)
    ).json()) as Record<string, unknown>;
    expect(metadata.revocation_feed_endpoint).toBe(`${app.url}/revocations`);
    const client = await registerClient(app.url, 'http://127.0.0.1:9/callback', 'Feed Stranger');
    for (const headers of [
      {} as Record<string, string>,
      { authorization: `Basic ${btoa(`${RS_ID}:wrong`)}` },
      { authorization: `Basic ${btoa(`${client.client.client_id}:`)}` },
    ]) {
      const response = await fetch(`${app.url}/revocations`, { headers });
      expect(response.status).toBe(401);
      expect(((await response.json()) as { error: string }).error).toBe('invalid_client');
    }
    expect((await fetch(`${app.url}/revocations?cursor=nope`, { headers: rsAuth })).status).toBe(
      400,
    );
  });

  it('lists a token revoked at /revoke and the tokens of an app revoked on /account', async () => {
    const client = await registerClient(app.url, 'http://127.0.0.1:9/callback', 'Feed Test App');
    const jar = await devLogin(app.url, 'feed@example.com');
    const grant = async () => {
      const flow = await client.authorizationUrl('read');
      const { callback } = await authorizeOverHttp(app.url, jar, flow.url);
      return client.exchange(callback, flow);
    };
    const first = await grant();
    const second = await grant();
    const before = await listed();
    expect(before.has(jtiSha256(first.access_token))).toBe(false);

    const revoked = await fetch(`${app.url}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        token: first.access_token,
        client_id: client.client.client_id,
      }),
    });
    expect(revoked.status).toBe(200);
    const afterRevoke = await listed();
    expect(afterRevoke.get(jtiSha256(first.access_token))).toBeGreaterThanOrEqual(
      decodeJwt(first.access_token).exp!,
    );
    expect(afterRevoke.has(jtiSha256(second.access_token))).toBe(false);

    // The account page's Revoke: the user withdraws the app.
    const withdraw = await revokeOnAccountPage(app.url, jar, client.client.client_id);
    expect(withdraw.status).toBe(303);
    expect((await listed()).has(jtiSha256(second.access_token))).toBe(true);
  });
});
