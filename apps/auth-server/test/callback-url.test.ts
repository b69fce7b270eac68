import { describe, expect, it } from 'vitest';
import { safeCallbackUrl } from '../src/lib/safe-callback';

const origin = 'http://localhost:3000';

describe('login callbackUrl (no open redirect, RFC 9700 §4.11)', () => {
  it('keeps same-origin paths with their query', () => {
    expect(safeCallbackUrl('/authorize?client_id=a&state=b', origin)).toBe(
      '/authorize?client_id=a&state=b',
    );
    expect(safeCallbackUrl('http://localhost:3000/account', origin)).toBe('/account');
  });

  it.each([
    'https://evil.example/authorize',
    '//evil.example/x',
    '/\\evil.example',
    'javascript:alert(1)',
    'http://localhost:3001/account',
    '/login?callbackUrl=/x',
    '',
  ])('refuses %j', (raw) => {
    expect(safeCallbackUrl(raw, origin)).toBe('/account');
  });
});
