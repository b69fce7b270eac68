import { createTokenStore, memoryAdapter } from '@portcullis/token-store';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formToRecord, paramsToRecord } from '../src/lib/http.js';
import { createKeyManager } from '../src/lib/keys.js';
import { plainPathname } from '../src/lib/node-bridge.js';
import {
  authorizationCodeGrantSchema,
  clientCredentialsGrantSchema,
  grantTypeSchema,
  parseWith,
  refreshTokenGrantSchema,
} from '../src/lib/schemas.js';

/** What a function returns, or the message of what it throws. */
function outcome<T>(run: () => T): { value: T } | { error: string } {
  try {
    return { value: run() };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

// The fast paths answer exactly as the general code they stand in for, on any input.
describe('fast paths agree with the general code', () => {
  it('formToRecord reads a form body as paramsToRecord(new URLSearchParams(body)) does', () => {
    const part = fc.constantFrom(
      'a',
      'grant_type',
      '=',
      '&',
      '+',
      '%',
      '%2',
      '%41',
      '%2B',
      '%26',
      '%3D',
      '%C3%A9',
      '%E2%9C%93',
      '%F0%9F%98%80',
      '%EF%BB%BF',
      '%ZZ',
      '%C3',
      '%ED%A0%80',
      '%C0%AF',
      '%00',
      'é',
      '✓',
      '😀',
      ' ',
    );
    fc.assert(
      fc.property(
        fc.array(fc.oneof(part, fc.string({ maxLength: 4 })), { maxLength: 10 }),
        (parts) => {
          const body = parts.join('');
          const fast = outcome(() => Object.entries(formToRecord(body)));
          const general = outcome(() => Object.entries(paramsToRecord(new URLSearchParams(body))));
          expect(fast).toEqual(general);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it("parseWith's plain check of the token grants returns what zod returns, and refuses what zod refuses", () => {
    const value = fc.oneof(
      fc.constantFrom(
        'authorization_code',
        'refresh_token',
        'client_credentials',
        '',
        ' ',
        'x'.repeat(43),
        'x'.repeat(128),
        'x'.repeat(129),
        'y'.repeat(512),
        'y'.repeat(513),
        'z'.repeat(2049),
        '\u0000',
        '\u007f',
        'é',
        'https://mcp.example.com/mcp',
      ),
      fc.string({ maxLength: 8 }),
    );
    const schemas = [
      grantTypeSchema,
      authorizationCodeGrantSchema,
      refreshTokenGrantSchema,
      clientCredentialsGrantSchema,
    ];
    const names = [...new Set(schemas.flatMap((schema) => Object.keys(schema.shape))), 'other'];
    const form = fc.dictionary(fc.constantFrom(...names), value);
    fc.assert(
      fc.property(form, (input) => {
        for (const schema of schemas) {
          const parsed = schema.safeParse(input);
          const fast = outcome(() => parseWith(schema, input));
          if (parsed.success) {
            expect(fast).toEqual({ value: parsed.data });
            // The same keys in the same order: the token response is built from them.
            expect(Object.keys((fast as { value: object }).value)).toEqual(
              Object.keys(parsed.data),
            );
          } else {
            expect(fast).toHaveProperty('error');
          }
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('plainPathname is new URL(target, origin).pathname wherever it answers', () => {
    const segment = fc.constantFrom(
      'token',
      '.well-known',
      '.',
      '..',
      '',
      'a.b',
      '%2e',
      '%2E.',
      '~x',
      'a b',
      'é',
      '\\',
      ':',
      '@',
    );
    fc.assert(
      fc.property(
        fc.array(segment, { maxLength: 5 }),
        fc.constantFrom('', '?', '?a=b', '?x=/../y', '#f'),
        fc.constantFrom('/', '', '//', 'http://other.example/'),
        (segments, query, lead) => {
          const target = lead + segments.join('/') + query;
          const plain = plainPathname(target);
          if (plain !== undefined) {
            expect(plain).toBe(new URL(target, 'http://127.0.0.1:3000').pathname);
          }
        },
      ),
      { numRuns: 3000 },
    );
    expect(plainPathname('/token')).toBe('/token');
    expect(plainPathname('/.well-known/oauth-authorization-server?x=1')).toBe(
      '/.well-known/oauth-authorization-server',
    );
    expect(plainPathname('/a/../token')).toBeUndefined();
    expect(plainPathname('//evil.example/token')).toBeUndefined();
  });

  it('keys.current() answers only the key signingKey() would, and nothing once a key activates, the load goes stale or is dropped', async () => {
    const clock = { now: Date.UTC(2026, 0, 1) };
    const now = () => clock.now;
    const store = createTokenStore({ adapter: memoryAdapter(), now });
    const keys = createKeyManager({ store, now, accessTokenTtlSeconds: 3600, reloadMs: 600_000 });
    expect(keys.current()).toBeUndefined();
    const old = await keys.signingKey();
    expect(keys.current()).toEqual(old);
    const { kid: newKid, activatesAt } = await keys.rotate({ publishSeconds: 60 });
    expect(keys.current()).toBeUndefined();
    expect(await keys.signingKey()).toEqual(old);
    expect(keys.current()).toEqual(old);
    // The new key activates within the same fresh load: the old choice no longer stands.
    clock.now = activatesAt - 1;
    expect(keys.current()).toEqual(old);
    clock.now = activatesAt;
    expect(keys.current()).toBeUndefined();
    expect((await keys.signingKey()).kid).toBe(newKid);
    expect(keys.current()?.kid).toBe(newKid);
    // A clock that goes back, a stale load and invalidate() all send the caller to signingKey().
    clock.now -= 1;
    expect(keys.current()).toBeUndefined();
    clock.now += 1;
    await keys.signingKey();
    clock.now += 600_000;
    expect(keys.current()).toBeUndefined();
    await keys.signingKey();
    expect(keys.current()?.kid).toBe(newKid);
    keys.invalidate();
    expect(keys.current()).toBeUndefined();
  });
});
