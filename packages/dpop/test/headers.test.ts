import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dpopChallenge, parseAuthorizationHeader } from '../src/index.js';

describe('RFC 9449 §7.1: Authorization: DPoP', () => {
  it('reads DPoP and Bearer, schemes in any case, optional whitespace', () => {
    expect(parseAuthorizationHeader('DPoP abc.def-ghi')).toEqual({
      scheme: 'dpop',
      token: 'abc.def-ghi',
    });
    expect(parseAuthorizationHeader('dpop   abc')).toEqual({ scheme: 'dpop', token: 'abc' });
    expect(parseAuthorizationHeader(' Bearer abc== ')).toEqual({
      scheme: 'bearer',
      token: 'abc==',
    });
    expect(parseAuthorizationHeader('BEARER\tabc')).toEqual({ scheme: 'bearer', token: 'abc' });
  });

  it('no header or another scheme is none', () => {
    for (const h of [null, undefined, '', '   ', 'Basic dXNlcjpwYXNz', 'Digest x']) {
      expect(parseAuthorizationHeader(h)).toEqual({ scheme: 'none' });
    }
  });

  it('a DPoP or Bearer header without a well-formed token is malformed', () => {
    for (const h of [
      'DPoP',
      'DPoP ',
      'DPoP a b',
      'Bearer a,b',
      'DPoP ä',
      `DPoP ${'a'.repeat(8193)}`,
      '(x) y',
    ]) {
      expect(parseAuthorizationHeader(h).scheme, h).toBe('malformed');
    }
  });
});

describe('RFC 9449 §7.1: WWW-Authenticate: DPoP', () => {
  it('error, description and algs, as in the RFC’s example', () => {
    expect(
      dpopChallenge({
        error: 'invalid_token',
        errorDescription: 'Invalid DPoP key binding',
        algorithms: ['ES256'],
      }),
    ).toBe(
      'DPoP error="invalid_token", error_description="Invalid DPoP key binding", algs="ES256"',
    );
  });

  it('no error when no credentials were sent; algs always; scope and resource_metadata for MCP', () => {
    expect(
      dpopChallenge({
        algorithms: ['ES256', 'PS256'],
        scopes: ['read', 'write'],
        resourceMetadata: 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp',
      }),
    ).toBe(
      'DPoP scope="read write", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", algs="ES256 PS256"',
    );
    expect(dpopChallenge()).toMatch(/^DPoP algs="ES256 ES384 /);
  });

  it('a description cannot break out of its quoted-string or the header', () => {
    const header = dpopChallenge({
      error: 'invalid_dpop_proof',
      errorDescription: 'x", error="forged\r\nSet-Cookie: a=b \\',
    });
    expect(header).toBe(
      'DPoP error="invalid_dpop_proof", error_description="x\\", error=\\"forgedSet-Cookie: a=b \\\\", algs="ES256 ES384 ES512 PS256 PS384 PS512 EdDSA Ed25519"',
    );
    expect(() => new Headers({ 'WWW-Authenticate': header })).not.toThrow();
  });
});

describe('hostile header values', () => {
  it('parseAuthorizationHeader never throws, and a token it returns is a well-formed b64token', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.anything(),
          fc.string({ maxLength: 200 }),
          fc
            .tuple(fc.constantFrom('DPoP', 'Bearer', 'dpop '), fc.string())
            .map(([s, t]) => `${s} ${t}`),
        ),
        (value) => {
          const parsed = parseAuthorizationHeader(value);
          if (parsed.scheme === 'dpop' || parsed.scheme === 'bearer') {
            expect(parsed.token).toMatch(/^[A-Za-z0-9\-._~+/]+=*$/);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('dpopChallenge with any description and scopes is a valid header value with one error', () => {
    fc.assert(
      fc.property(fc.string(), fc.array(fc.string(), { maxLength: 3 }), (description, scopes) => {
        const header = dpopChallenge({
          error: 'invalid_token',
          errorDescription: description,
          scopes,
        });
        expect(() => new Headers({ 'WWW-Authenticate': header })).not.toThrow();
        expect(header.match(/(?:^DPoP |, )error="/g)).toHaveLength(1);
      }),
    );
  });
});
