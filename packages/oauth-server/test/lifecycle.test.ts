import { PGlite } from '@electric-sql/pglite';
import { createTokenStore } from '@portcullis/token-store';
import { postgresAdapter } from '@portcullis/token-store/postgres';
import { describe, expect, it } from 'vitest';
import {
  authorizeParams,
  basic,
  confidentialClient,
  countingAdapter,
  exchange,
  form,
  obtainCode,
  publicClient,
  REDIRECT,
  RESOURCE,
  setup,
} from './support/setup.js';

const OTHER = 'https://other.example/mcp';

async function introspect(
  as: Awaited<ReturnType<typeof setup>>['as'],
  rs: { clientId: string; secret: string },
  token: string,
) {
  const response = await as.handle(form('/introspect', { token }, basic(rs.clientId, rs.secret)));
  return (await response!.json()) as { active: boolean };
}

describe('code exchange: validate, then consume (RFC 6749 §4.1.3)', () => {
  it('a failed attempt (verifier, redirect_uri, resource, client) leaves the code usable; errors say what happened', async () => {
    const { as } = await setup({ resources: [{ uri: RESOURCE }, { uri: OTHER }] });
    const clientId = await publicClient(as);
    const other = await publicClient(as);
    const { code, verifier } = await obtainCode(as, clientId);
    const params = {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT,
      client_id: clientId,
    };
    const attempts: [Record<string, string>, Record<string, string>][] = [
      [
        { code_verifier: 'a'.repeat(64) },
        {
          error: 'invalid_grant',
          error_description: 'code_verifier does not match the code_challenge',
        },
      ],
      [
        { redirect_uri: `${REDIRECT}/` },
        {
          error: 'invalid_grant',
          error_description: 'redirect_uri does not match the authorization request',
        },
      ],
      [
        { resource: OTHER },
        {
          error: 'invalid_target',
          error_description: 'resource does not match the authorization request',
        },
      ],
      [
        { client_id: other },
        {
          error: 'invalid_grant',
          error_description: 'the authorization code was issued to another client',
        },
      ],
    ];
    for (const [change, expected] of attempts) {
      const failed = await exchange(as, { ...params, ...change });
      expect(failed.response.status).toBe(400);
      expect(failed.body).toEqual(expected);
    }
    const good = await exchange(as, params);
    expect(good.response.status).toBe(200);

    // A second successful redemption revokes everything issued from the code, and says so.
    const replay = await exchange(as, params);
    expect(replay.body).toEqual({
      error: 'invalid_grant',
      error_description:
        'the authorization code was already redeemed; the tokens issued from it are revoked',
    });
    const refresh = await exchange(as, {
      grant_type: 'refresh_token',
      refresh_token: good.body.refresh_token as string,
      client_id: clientId,
    });
    expect(refresh.body.error).toBe('invalid_grant');
  });

  it('a replay with a wrong verifier does not revoke the rightful client’s tokens', async () => {
    const { as } = await setup();
    const clientId = await publicClient(as);
    const { code, verifier } = await obtainCode(as, clientId);
    const params = {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT,
      client_id: clientId,
    };
    const good = await exchange(as, params);
    const probe = await exchange(as, { ...params, code_verifier: 'b'.repeat(64) });
    expect(probe.body.error).toBe('invalid_grant');
    const refresh = await exchange(as, {
      grant_type: 'refresh_token',
      refresh_token: good.body.refresh_token as string,
      client_id: clientId,
    });
    expect(refresh.response.status).toBe(200);
  });
});

describe('code exchange in one store step when redirect_uri is sent', () => {
  it('validates and redeems the code, and stores its tokens, in one adapter call (rotate with match); a failed attempt takes the full path and spends nothing', async () => {
    const { adapter, calls } = countingAdapter();
    const { as } = await setup({}, createTokenStore({ adapter, production: false }));
    const clientId = await publicClient(as);
    const { code, verifier } = await obtainCode(as, clientId);
    calls.length = 0;
    const params = {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT,
      client_id: clientId,
    };
    expect((await exchange(as, params)).response.status).toBe(200);
    expect(calls).toEqual(['find(client)', 'rotate']);
    // A failed attempt takes the full path (to say what is wrong) and spends nothing.
    const second = await obtainCode(as, clientId);
    calls.length = 0;
    const failed = await exchange(as, {
      ...params,
      code: second.code,
      code_verifier: 'c'.repeat(64),
    });
    expect(failed.body.error_description).toBe('code_verifier does not match the code_challenge');
    expect(calls).toEqual(['find(client)', 'rotate', 'find(authorization_code)']);
    const ok = await exchange(as, { ...params, code: second.code, code_verifier: second.verifier });
    expect(ok.response.status).toBe(200);
  });
});

describe('approval in one store step where the store can (codes.issue with readConsent)', () => {
  it('writes the code and reads the standing consent in one adapter call (PGlite); the consent is written only when it adds scopes', async () => {
    const { adapter, calls } = countingAdapter(postgresAdapter(new PGlite()));
    const { as, store } = await setup({}, createTokenStore({ adapter, production: false }));
    const clientId = await publicClient(as);
    /** Not the client's reads: served by PGlite's exact client cache. */
    const steps = () => calls.filter((c) => c !== 'find(client)');
    calls.length = 0;
    await obtainCode(as, clientId, { scope: 'read' });
    // First approval: the client saved (no longer expires unused) and the consent written.
    expect(steps()).toEqual([
      'set(client)',
      'setAndFind(authorization_code)',
      'find(consent)',
      'set(consent)',
    ]);
    calls.length = 0;
    const { code, verifier } = await obtainCode(as, clientId, { scope: 'read' });
    expect(steps()).toEqual(['setAndFind(authorization_code)']);
    // Wider scopes than the standing consent: written again.
    calls.length = 0;
    await obtainCode(as, clientId, { scope: 'read write' });
    expect(steps()).toEqual(['setAndFind(authorization_code)', 'find(consent)', 'set(consent)']);
    expect((await store.consents.find('user-1', clientId, { resource: RESOURCE }))?.scopes).toEqual(
      ['read', 'write'],
    );
    const exchanged = await exchange(as, {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT,
      client_id: clientId,
    });
    expect(exchanged.response.status).toBe(200);
  }, 60_000);
});

describe('refresh grace window (RFC 9700 §4.14.2)', () => {
  it.each([3, 10])(
    '%i parallel refreshes with one token all succeed with the same successor, which keeps working',
    async (parallel) => {
      const { as, clock } = await setup();
      const clientId = await publicClient(as);
      const rs = await confidentialClient(as);
      const { code, verifier } = await obtainCode(as, clientId);
      const first = await exchange(as, {
        grant_type: 'authorization_code',
        code,
        code_verifier: verifier,
        redirect_uri: REDIRECT,
        client_id: clientId,
      });
      clock.now += 3_600_000; // the access token has expired
      const results = await Promise.all(
        Array.from({ length: parallel }, () =>
          exchange(as, {
            grant_type: 'refresh_token',
            refresh_token: first.body.refresh_token as string,
            client_id: clientId,
          }),
        ),
      );
      expect(results.map((r) => r.response.status)).toEqual(Array(parallel).fill(200));
      expect(new Set(results.map((r) => r.body.refresh_token)).size).toBe(1);
      for (const { body } of results) {
        expect((await introspect(as, rs, body.access_token as string)).active).toBe(true);
      }
      clock.now += 60_000;
      const later = await exchange(as, {
        grant_type: 'refresh_token',
        refresh_token: results[0]!.body.refresh_token as string,
        client_id: clientId,
      });
      expect(later.response.status).toBe(200);
    },
  );

  it('refreshGraceSeconds: 0 turns the window off: a second use revokes the grant', async () => {
    const { as } = await setup({ refreshGraceSeconds: 0 });
    const clientId = await publicClient(as);
    const { code, verifier } = await obtainCode(as, clientId);
    const first = await exchange(as, {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT,
      client_id: clientId,
    });
    const params = {
      grant_type: 'refresh_token',
      refresh_token: first.body.refresh_token as string,
      client_id: clientId,
    };
    const second = await exchange(as, params);
    expect((await exchange(as, params)).body.error).toBe('invalid_grant');
    const after = await exchange(as, {
      ...params,
      refresh_token: second.body.refresh_token as string,
    });
    expect(after.body.error).toBe('invalid_grant');
  });
});

describe('grant lifetime', () => {
  it('rotation never extends a grant past ttl.grant; the access token is cut at its end', async () => {
    const { as, clock } = await setup({ ttl: { grant: 100, refreshToken: 60, accessToken: 30 } });
    const clientId = await publicClient(as);
    const { code, verifier } = await obtainCode(as, clientId);
    const first = await exchange(as, {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT,
      client_id: clientId,
    });
    let token = first.body.refresh_token as string;
    for (const step of [50, 40]) {
      clock.now += step * 1000;
      const next = await exchange(as, {
        grant_type: 'refresh_token',
        refresh_token: token,
        client_id: clientId,
      });
      expect(next.response.status).toBe(200);
      token = next.body.refresh_token as string;
      if (step === 40) expect(next.body.expires_in).toBe(10);
    }
    clock.now += 11_000;
    const ended = await exchange(as, {
      grant_type: 'refresh_token',
      refresh_token: token,
      client_id: clientId,
    });
    expect(ended.body.error).toBe('invalid_grant');
  });
});

describe('consent per resource, withdrawal', () => {
  it('a consent covers one resource: another resource needs consent again', async () => {
    const { as } = await setup({ resources: [{ uri: RESOURCE }, { uri: OTHER }] });
    const clientId = await publicClient(as);
    await obtainCode(as, clientId, { userId: 'alice', resource: RESOURCE });
    const parse = async (resource: string) => {
      const result = await as.authorization.parse(
        authorizeParams({
          response_type: 'code',
          client_id: clientId,
          redirect_uri: REDIRECT,
          code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
          code_challenge_method: 'S256',
          resource,
        }),
      );
      if (!result.ok) throw new Error('expected ok');
      return result.pending;
    };
    expect(await (await parse(RESOURCE)).needsConsent('alice')).toBe(false);
    const other = await parse(OTHER);
    expect(other.resource).toBe(OTHER);
    expect(await other.needsConsent('alice')).toBe(true);
  });

  it('withdrawing a client revokes its outstanding codes, access and refresh tokens; grants.list shows every live grant', async () => {
    const { as } = await setup();
    const clientId = await publicClient(as);
    const rs = await confidentialClient(as);
    const done = await obtainCode(as, clientId, { userId: 'alice' });
    const tokens = await exchange(as, {
      grant_type: 'authorization_code',
      code: done.code,
      code_verifier: done.verifier,
      redirect_uri: REDIRECT,
      client_id: clientId,
    });
    const pending = await obtainCode(as, clientId, { userId: 'alice' });
    expect((await as.grants.list('alice')).map((g) => g.clientId)).toEqual([clientId, clientId]);

    expect(await as.consents.revoke('alice', clientId)).toBe(true);
    expect(await as.grants.list('alice')).toEqual([]);
    const late = await exchange(as, {
      grant_type: 'authorization_code',
      code: pending.code,
      code_verifier: pending.verifier,
      redirect_uri: REDIRECT,
      client_id: clientId,
    });
    expect(late.body.error).toBe('invalid_grant');
    expect((await introspect(as, rs, tokens.body.access_token as string)).active).toBe(false);
    const refresh = await exchange(as, {
      grant_type: 'refresh_token',
      refresh_token: tokens.body.refresh_token as string,
      client_id: clientId,
    });
    expect(refresh.body.error).toBe('invalid_grant');
  });
});
