// `openid.accessTokenClaims`: user claims in access tokens only when configured, only those the
// token's scopes release, read at issue and again on refresh (issue 18 §1).
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import type { OpenIdClaims, OpenIdOptions } from '../src/index.js';
import {
  basic,
  confidentialClient,
  exchange,
  form,
  ISSUER,
  obtainCode,
  publicClient,
  RESOURCE,
  setup,
} from './support/setup.js';

const SERVER_CLAIMS = ['aud', 'client_id', 'exp', 'iat', 'iss', 'jti', 'scope', 'sub'];

function directory() {
  const users: Record<string, OpenIdClaims> = {
    u_alice: {
      email: 'alice@example.com',
      email_verified: true,
      name: 'Alice Liddell',
      picture: 'https://example.com/alice.png',
    },
  };
  const calls: string[] = [];
  const claims = async (sub: string) => {
    calls.push(sub);
    return users[sub];
  };
  return { users, calls, claims };
}

async function deploy(
  openid: Omit<OpenIdOptions, 'claims'>,
  format: 'jwt' | 'opaque' = 'jwt',
  claims?: OpenIdOptions['claims'],
) {
  const dir = directory();
  const env = await setup({
    openid: { claims: claims ?? dir.claims, ...openid },
    accessTokenFormat: format,
  });
  const clientId = await publicClient(env.as, { scope: 'openid profile email read' });
  async function grant(scope: string) {
    const { code, verifier } = await obtainCode(env.as, clientId, { scope, userId: 'u_alice' });
    const { response, body } = await exchange(env.as, {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      client_id: clientId,
      redirect_uri: 'https://client.example/callback',
      resource: RESOURCE,
    });
    expect(response.status).toBe(200);
    return body as { access_token: string; refresh_token: string; id_token?: string };
  }
  async function refresh(refreshToken: string, scope?: string) {
    const { response, body } = await exchange(env.as, {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: clientId,
      ...(scope ? { scope } : {}),
    });
    expect(response.status).toBe(200);
    return body as { access_token: string; refresh_token: string; id_token?: string };
  }
  async function verified(accessToken: string) {
    const jwks = createLocalJWKSet({ keys: (await env.as.keys.list()) as never });
    const { payload } = await jwtVerify(accessToken, jwks, {
      issuer: ISSUER,
      audience: RESOURCE,
      typ: 'at+jwt',
      currentDate: new Date(env.clock.now),
    });
    return payload as Record<string, unknown>;
  }
  return { ...env, ...dir, grant, refresh, verified };
}

describe('openid.accessTokenClaims', () => {
  it('by default an access token carries no personal data, whatever the scopes, and the callback is not called for it', async () => {
    const env = await deploy({});
    const tokens = await env.grant('openid profile email read');
    expect(Object.keys(await env.verified(tokens.access_token)).sort()).toEqual(SERVER_CLAIMS);
    // One call, for the ID token.
    expect(env.calls).toEqual(['u_alice']);
    const plain = await env.grant('read');
    expect(Object.keys(decodeJwt(plain.access_token)).sort()).toEqual(SERVER_CLAIMS);
    expect(env.calls).toEqual(['u_alice']);
  });

  it('copies the listed claims the scopes release, and only those; one callback call serves both tokens', async () => {
    const env = await deploy({ accessTokenClaims: ['email', 'name'] });
    const both = await env.grant('openid profile email read');
    expect(await env.verified(both.access_token)).toMatchObject({
      sub: 'u_alice',
      email: 'alice@example.com',
      name: 'Alice Liddell',
    });
    const payload = decodeJwt(both.access_token);
    // Released by the scopes but not listed: left out.
    expect(payload.email_verified).toBeUndefined();
    expect(payload.picture).toBeUndefined();
    // The ID token still has everything the scopes release.
    expect(decodeJwt(both.id_token!)).toMatchObject({
      email_verified: true,
      picture: expect.any(String),
    });
    expect(env.calls).toEqual(['u_alice']);

    // email without profile: the email, not the name. Without openid the scopes still decide.
    const emailOnly = await env.grant('email read');
    expect(emailOnly.id_token).toBeUndefined();
    const emailPayload = decodeJwt(emailOnly.access_token);
    expect(emailPayload.email).toBe('alice@example.com');
    expect(emailPayload.name).toBeUndefined();

    // No scope that releases a listed claim: no call, no claim.
    const calls = env.calls.length;
    const plain = await env.grant('read');
    expect(Object.keys(decodeJwt(plain.access_token)).sort()).toEqual(SERVER_CLAIMS);
    expect(env.calls.length).toBe(calls);
  });

  it('a refreshed access token carries the user’s current claims; a refresh narrowed to other scopes drops them', async () => {
    const env = await deploy({ accessTokenClaims: ['email', 'name'] });
    const first = await env.grant('openid profile email read');
    env.users.u_alice = { ...env.users.u_alice, email: 'alice@new.example', name: 'Alice L.' };
    const refreshed = await env.refresh(first.refresh_token);
    expect(await env.verified(refreshed.access_token)).toMatchObject({
      email: 'alice@new.example',
      name: 'Alice L.',
    });
    expect(decodeJwt(refreshed.id_token!).email).toBe('alice@new.example');

    const narrowed = await env.refresh(refreshed.refresh_token, 'profile read');
    const payload = decodeJwt(narrowed.access_token);
    expect(payload.name).toBe('Alice L.');
    expect(payload.email).toBeUndefined();

    // A user the directory no longer knows: the token is issued without claims.
    delete env.users.u_alice;
    const gone = await env.refresh(narrowed.refresh_token);
    expect(Object.keys(decodeJwt(gone.access_token)).sort()).toEqual(SERVER_CLAIMS);
  });

  it('a failing claims callback costs the claims, never the grant', async () => {
    const env = await deploy({ accessTokenClaims: ['email'] }, 'jwt', async () => {
      throw new Error('directory down');
    });
    const tokens = await env.grant('openid email read');
    expect(Object.keys(decodeJwt(tokens.access_token)).sort()).toEqual(SERVER_CLAIMS);
    expect(decodeJwt(tokens.id_token!).email).toBeUndefined();
  });

  it('introspection of an access token answers with the listed released claims as they are now (opaque and JWT); refresh tokens and unlisted servers get none', async () => {
    for (const format of ['opaque', 'jwt'] as const) {
      const env = await deploy({ accessTokenClaims: ['email'] }, format);
      const rs = await confidentialClient(env.as);
      const introspect = async (token: string) =>
        (await (await env.as.handle(
          form('/introspect', { token }, basic(rs.clientId, rs.secret)),
        ))!.json()) as Record<string, unknown>;
      const tokens = await env.grant('openid profile email read');
      if (format === 'opaque') expect(tokens.access_token).not.toContain('.');
      env.users.u_alice = { ...env.users.u_alice, email: 'alice@now.example' };
      const answer = await introspect(tokens.access_token);
      expect(answer).toMatchObject({ active: true, sub: 'u_alice', email: 'alice@now.example' });
      expect(answer.name).toBeUndefined();
      const refreshAnswer = await introspect(tokens.refresh_token);
      expect(refreshAnswer.active).toBe(true);
      expect(refreshAnswer.email).toBeUndefined();
    }
    const plain = await deploy({}, 'opaque');
    const rs = await confidentialClient(plain.as);
    const tokens = await plain.grant('openid profile email read');
    const answer = (await (await plain.as.handle(
      form('/introspect', { token: tokens.access_token }, basic(rs.clientId, rs.secret)),
    ))!.json()) as Record<string, unknown>;
    expect(answer.active).toBe(true);
    expect(answer.email).toBeUndefined();
    expect(answer.name).toBeUndefined();
  });

  it('refuses at construction: reserved claim names, unknown names, a value that is not a list', async () => {
    const claims = async () => undefined;
    for (const reserved of [
      'sub',
      'iss',
      'aud',
      'exp',
      'iat',
      'jti',
      'client_id',
      'scope',
      'cnf',
    ]) {
      await expect(
        setup({ openid: { claims, accessTokenClaims: [reserved as never] } }),
      ).rejects.toThrow(new RegExp(`cannot list "${reserved}"`));
    }
    await expect(
      setup({ openid: { claims, accessTokenClaims: ['email', 'phone_number' as never] } }),
    ).rejects.toThrow(
      /unknown claim "phone_number"; known: name, given_name, family_name, picture, updated_at, email, email_verified/,
    );
    await expect(
      setup({ openid: { claims, accessTokenClaims: 'email' as never } }),
    ).rejects.toThrow(TypeError);
    await expect(setup({ openid: { claims, accessTokenClaims: [42 as never] } })).rejects.toThrow(
      TypeError,
    );
  });
});
