import { request as httpRequest, validateHeaderValue } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticate, type BearerAuthOptions, jwtVerifier } from '../src/index.js';
import {
  MAX_TOKEN_LENGTH,
  parseAuthorization,
  readBearer,
  readCredentials,
} from '../src/lib/authorization-header.js';
import { createTestIssuer, type TestIssuer } from '../src/testing/index.js';
import {
  callTool,
  parseChallenge,
  startServer,
  type TestServer,
  TOOL_SCOPES,
} from './support/server.js';

const RESOURCE = 'http://127.0.0.1:9/mcp';
let issuer: TestIssuer;
let server: TestServer;
let auth: BearerAuthOptions;

const latin1 = fc.string({
  unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c)),
});
const b64char = fc.constantFrom(...'ABCXYZabcxyz0189-._~+/='.split(''));
const segment = fc.string({ unit: b64char, maxLength: 40 });
const jwtish = fc.tuple(segment, segment, segment).map(([a, b, c]) => `${a}.${b}.${c}`);
const headerValue = fc.oneof(
  fc.string(),
  latin1,
  latin1.map((s) => `Bearer ${s}`),
  fc
    .tuple(
      fc.constantFrom('Bearer', 'bearer', 'BEARER', 'Basic', 'DPoP', 'Bearer\t'),
      fc.string({ maxLength: 3, unit: fc.constantFrom(' ', '\t') }),
      latin1,
    )
    .map(([scheme, gap, rest]) => `${scheme}${gap}${rest}`),
  jwtish.map((t) => `Bearer ${t}`),
  fc.base64String().map((t) => `Bearer ${t}`),
);

/** Only values fetch's Headers would send (no CR, LF, NUL, nothing above U+00FF). */
function sendable(value: string): boolean {
  try {
    new Headers({ authorization: value });
    return true;
  } catch {
    return false;
  }
}

/** Sends a header byte for byte (latin1) with node:http, which lets through more than fetch does. */
function rawPost(
  url: string,
  authorization: string,
): Promise<{ status: number; challenge: string | null }> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify(callTool('whoami'));
    const req = httpRequest(
      url,
      {
        method: 'POST',
        headers: {
          Authorization: authorization,
          'Content-Type': 'application/json',
          Accept: 'application/json, text/event-stream',
          'Content-Length': Buffer.byteLength(body),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          const challenge = res.headers['www-authenticate'];
          resolve({
            status: res.statusCode ?? 0,
            challenge: typeof challenge === 'string' ? challenge : null,
          });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function nodeSendable(value: string): boolean {
  try {
    validateHeaderValue('authorization', value);
    return !/[^\t\x20-\xff]/.test(value);
  } catch {
    return false;
  }
}

beforeAll(async () => {
  issuer = await createTestIssuer();
  auth = {
    verifier: jwtVerifier({ issuer: issuer.issuer, audience: RESOURCE, jwksUri: issuer.jwksUri }),
    resource: RESOURCE,
    toolScopes: TOOL_SCOPES,
  };
  server = await startServer({
    verifier: (resource) =>
      jwtVerifier({ issuer: issuer.issuer, audience: resource, jwksUri: issuer.jwksUri }),
    toolScopes: TOOL_SCOPES,
  });
});
afterAll(async () => {
  await server?.close();
  await issuer?.close();
});

describe('RFC 6750 §2.1: the Authorization header parser under fuzzing', () => {
  it('never throws, and accepts only b64tokens after the Bearer scheme', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), headerValue), (value) => {
        const parsed = parseAuthorization(value);
        if (parsed.kind === 'bearer') {
          expect(parsed.token).toMatch(/^[A-Za-z0-9\-._~+/]+=*$/);
          expect(value.trim().toLowerCase().startsWith('bearer')).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('the fast path for "Bearer <token>" answers exactly as the general reading does', () => {
    const around = fc.string({ maxLength: 2, unit: fc.constantFrom(' ', '\t', '\u00a0', '\n') });
    const scheme = fc.constantFrom(
      'Bearer',
      'bearer',
      'BEARER',
      'bEaReR',
      'Bearex',
      'Bearer!',
      'Basic',
    );
    const token = fc.oneof(
      latin1,
      fc.string({ minLength: 1, unit: fc.constantFrom('a', ' ', '\t', '=', '.') }),
      fc.constantFrom('', 'a'.repeat(MAX_TOKEN_LENGTH), 'a'.repeat(MAX_TOKEN_LENGTH + 1)),
    );
    fc.assert(
      fc.property(
        fc.oneof(
          headerValue,
          fc
            .tuple(around, scheme, around, token, around)
            .map(([a, s, gap, t, b]) => `${a}${s} ${gap}${t}${b}`),
        ),
        (value) => {
          expect(readBearer(value)).toEqual(readCredentials(value));
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('authenticate(): any sendable header is answered 400 or 401 with a well-formed challenge, never 500', async () => {
    await fc.assert(
      fc.asyncProperty(headerValue, fc.boolean(), async (value, scoped) => {
        fc.pre(sendable(value));
        const request = new Request(RESOURCE, {
          method: 'POST',
          headers: { Authorization: value, 'Content-Type': 'application/json' },
          body: JSON.stringify(callTool(scoped ? 'secure_operation' : 'whoami')),
        });
        const result = await authenticate(request, auth);
        expect('response' in result).toBe(true);
        if (!('response' in result)) return;
        expect([400, 401]).toContain(result.response.status);
        const { params } = parseChallenge(result.response.headers.get('www-authenticate'));
        expect(params.resource_metadata).toBe(
          'http://127.0.0.1:9/.well-known/oauth-protected-resource/mcp',
        );
        if (result.response.status === 400) expect(params.error).toBe('invalid_request');
        if (scoped) expect(params.scope).toBe('admin');
      }),
      { numRuns: 500 },
    );
  });

  it('over HTTP (express + bearerAuth): never a 500', async () => {
    await fc.assert(
      fc.asyncProperty(headerValue, async (value) => {
        fc.pre(nodeSendable(value));
        const response = await rawPost(server.url, value);
        expect([400, 401]).toContain(response.status);
        expect(parseChallenge(response.challenge).params.resource_metadata).toContain(
          '/.well-known/oauth-protected-resource/mcp',
        );
      }),
      { numRuns: 150 },
    );
  });
});
