import { describe, expect, it } from 'vitest';
import { createNonceIssuer, dpopNonceHeader } from '../src/index.js';

const secret = 'a secret of at least thirty-two bytes!';

describe('RFC 9449 §8, §9: stateless server nonces', () => {
  it('a nonce is accepted in its window and the next one, not after', async () => {
    let now = 1_000_000 * 1000;
    const issuer = createNonceIssuer({ secret, windowSeconds: 60, now: () => now });
    const nonce = await issuer.issue();
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await issuer.check(nonce)).toBe(true);
    now += 60_000; // next window: still accepted as the previous one
    expect(await issuer.check(nonce)).toBe(true);
    expect(await issuer.issue()).not.toBe(nonce);
    now += 60_000; // two windows on: stale
    expect(await issuer.check(nonce)).toBe(false);
  });

  it('a nonce from the future (a window not yet reached) is refused', async () => {
    let now = 5_000_000 * 1000;
    const issuer = createNonceIssuer({ secret, windowSeconds: 10, now: () => now });
    now += 10_000;
    const later = await issuer.issue();
    now -= 10_000;
    expect(await issuer.check(later)).toBe(false);
  });

  it('the same secret on two instances: one issues, the other accepts; another secret does not', async () => {
    const now = () => 1_700_000_000_000;
    const a = createNonceIssuer({ secret, now });
    const b = createNonceIssuer({ secret: new TextEncoder().encode(secret), now });
    const c = createNonceIssuer({ secret: `${secret}-other`, now });
    const nonce = await a.issue();
    expect(await b.check(nonce)).toBe(true);
    expect(await c.check(nonce)).toBe(false);
  });

  it('check never throws and refuses anything that is not a nonce', async () => {
    const issuer = createNonceIssuer({ secret });
    const nonce = await issuer.issue();
    for (const bad of [undefined, null, 42, {}, '', nonce.slice(1), `${nonce}x`, 'A'.repeat(43)]) {
      expect(await issuer.check(bad)).toBe(false);
    }
    expect(await issuer.check(nonce)).toBe(true);
  });

  it('a short secret or a bad window is a TypeError', () => {
    expect(() => createNonceIssuer({ secret: 'short' })).toThrow(/at least 32 bytes/);
    expect(() => createNonceIssuer({ secret, windowSeconds: 0 })).toThrow(TypeError);
    expect(() => createNonceIssuer({ secret, windowSeconds: 1.5 })).toThrow(TypeError);
    expect(() => createNonceIssuer({ secret: 5 as never })).toThrow(TypeError);
  });

  it('after the clock steps back and forth over many windows it still answers right', async () => {
    let now = 0;
    const issuer = createNonceIssuer({ secret, windowSeconds: 1, now: () => now });
    for (let w = 100; w > 0; w--) {
      now = w * 1000;
      const nonce = await issuer.issue();
      expect(await issuer.check(nonce)).toBe(true);
    }
  });

  it('dpopNonceHeader: the header pair, and NQCHAR syntax enforced', async () => {
    const nonce = await createNonceIssuer({ secret }).issue();
    expect(new Headers([dpopNonceHeader(nonce)]).get('dpop-nonce')).toBe(nonce);
    for (const bad of ['', 'a b', 'a"b', 'a\\b', 'a\r\nSet-Cookie: x']) {
      expect(() => dpopNonceHeader(bad)).toThrow(TypeError);
    }
  });
});
