import { describe, expect, it, vi } from 'vitest';
import {
  CodedTypeError,
  corsHeaders,
  protectedResourceMetadata,
  resourceMetadataUrl,
} from '../src/index.js';
import { parseAuthorization } from '../src/lib/authorization-header.js';
import { bearerChallenge, quote } from '../src/lib/challenge.js';
import { calledToolNames, singleCalledTool } from '../src/lib/jsonrpc.js';
import { createOriginCheck } from '../src/lib/origin-check.js';
import { coversScopes, missingScopes } from '../src/lib/scopes.js';
import { parseChallenge } from './support/server.js';

describe('RFC 9728 §3.1: resourceMetadataUrl', () => {
  it('inserts the well-known suffix between host and path', () => {
    expect(resourceMetadataUrl('http://host:8000/mcp').href).toBe(
      'http://host:8000/.well-known/oauth-protected-resource/mcp',
    );
    expect(resourceMetadataUrl('https://api.example.com/v1/mcp/').href).toBe(
      'https://api.example.com/.well-known/oauth-protected-resource/v1/mcp',
    );
    expect(resourceMetadataUrl('https://example.com').href).toBe(
      'https://example.com/.well-known/oauth-protected-resource',
    );
    expect(resourceMetadataUrl('https://example.com/mcp?tenant=a').href).toBe(
      'https://example.com/.well-known/oauth-protected-resource/mcp?tenant=a',
    );
  });

  it('RFC 8707 §2: refuses relative URLs and fragments', () => {
    expect(() => resourceMetadataUrl('/mcp')).toThrow(CodedTypeError);
    expect(() => resourceMetadataUrl('https://example.com/mcp#x')).toThrow(/fragment/);
    expect(() => resourceMetadataUrl(42 as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
  });
});

describe('RFC 9728 §2: protectedResourceMetadata', () => {
  it('keeps resource exactly as given and authorization_servers as strings', () => {
    expect(
      protectedResourceMetadata({
        resource: 'http://localhost:8000/mcp',
        authorizationServers: ['http://localhost:3000'],
        scopesSupported: ['read'],
        resourceDocumentation: 'https://docs.example.com',
      }),
    ).toEqual({
      resource: 'http://localhost:8000/mcp',
      authorization_servers: ['http://localhost:3000'],
      scopes_supported: ['read'],
      bearer_methods_supported: ['header'],
      resource_documentation: 'https://docs.example.com',
    });
  });

  it('refuses the guide’s authorization_servers objects', () => {
    expect(() =>
      protectedResourceMetadata({
        resource: 'http://localhost:8000/mcp',
        authorizationServers: [{ issuer: 'http://localhost:3000' } as never],
      }),
    ).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_ARG_TYPE',
        message: expect.stringMatching(/issuer string/),
      }),
    );
  });
});

describe('RFC 6750 §3: challenge syntax', () => {
  it('quoted-strings escape " and \\ and drop control characters', () => {
    expect(quote('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(quote('line\r\nbreak\u0000é')).toBe('"linebreak"');
  });

  it('round-trips through a strict parser, error before scope before resource_metadata', () => {
    const header = bearerChallenge({
      resourceMetadata: 'https://h/.well-known/oauth-protected-resource/mcp',
      error: 'insufficient_scope',
      errorDescription: 'needs "admin" \\ now',
      scopes: ['read', 'admin'],
    });
    expect(header).toBe(
      'Bearer error="insufficient_scope", error_description="needs \\"admin\\" \\\\ now", scope="read admin", resource_metadata="https://h/.well-known/oauth-protected-resource/mcp"',
    );
    expect(parseChallenge(header).params).toEqual({
      error: 'insufficient_scope',
      error_description: 'needs "admin" \\ now',
      scope: 'read admin',
      resource_metadata: 'https://h/.well-known/oauth-protected-resource/mcp',
    });
  });
});

describe('RFC 6750 §2.1: parseAuthorization', () => {
  it('reads the b64token after a case-insensitive Bearer scheme', () => {
    expect(parseAuthorization('Bearer abc.DEF-_~+/==')).toEqual({
      kind: 'bearer',
      token: 'abc.DEF-_~+/==',
    });
    expect(parseAuthorization('bearer   tok')).toEqual({ kind: 'bearer', token: 'tok' });
  });

  it('RFC 9110 §5.5: spaces and tabs around the value are optional whitespace, nothing else is', () => {
    for (const header of [' \tBearer tok', 'Bearer tok \t ', '\t Bearer \t tok\t ']) {
      expect(parseAuthorization(header), JSON.stringify(header)).toEqual({
        kind: 'bearer',
        token: 'tok',
      });
    }
    expect(parseAuthorization(' \t ').kind).toBe('none');
    expect(parseAuthorization('Bearer tok\n').kind).toBe('malformed');
    expect(parseAuthorization('\u00a0Bearer tok').kind).toBe('malformed');
  });

  it('no header or another scheme is "none"; a broken Bearer is malformed', () => {
    expect(parseAuthorization(undefined).kind).toBe('none');
    expect(parseAuthorization('').kind).toBe('none');
    expect(parseAuthorization('Basic dTpw').kind).toBe('none');
    for (const bad of [
      'Bearer',
      'Bearer a b',
      'Bearer a=b',
      'Bearer "tok"',
      `Bearer ${'a'.repeat(8193)}`,
    ]) {
      expect(parseAuthorization(bad).kind, bad).toBe('malformed');
    }
  });
});

describe('Fetch §3.2: corsHeaders', () => {
  it('allows any origin by default and exposes the MCP headers', () => {
    expect(corsHeaders({ origin: 'https://a' })).toEqual({
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Expose-Headers':
        'WWW-Authenticate, Mcp-Session-Id, Mcp-Protocol-Version, DPoP-Nonce',
    });
    const preflight = corsHeaders({ preflight: true });
    expect(preflight['Access-Control-Allow-Headers']).toBe(
      'Authorization, Content-Type, Accept, Mcp-Protocol-Version, Mcp-Session-Id, Last-Event-ID, Mcp-Method, Mcp-Name, DPoP',
    );
  });
});

describe('SHA-256 (FIPS 180-4)', () => {
  const ABC = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
  const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

  it('the Node fast path gives the FIPS 180-2 test vector', async () => {
    const { sha256 } = await import('../src/lib/sha256.js');
    expect(hex(await sha256('abc'))).toBe(ABC);
  });

  it('the Web Crypto path (edge runtimes, browsers) gives the same digests', async () => {
    const holder = process as { getBuiltinModule?: unknown };
    const original = holder.getBuiltinModule;
    holder.getBuiltinModule = undefined;
    try {
      vi.resetModules();
      const { sha256 } = await import('../src/lib/sha256.js');
      holder.getBuiltinModule = original;
      vi.resetModules();
      const node = await import('../src/lib/sha256.js');
      const digest = vi.spyOn(crypto.subtle, 'digest');
      expect(hex(await sha256('abc'))).toBe(ABC);
      expect(digest).toHaveBeenCalledTimes(1);
      await node.sha256('abc');
      expect(digest).toHaveBeenCalledTimes(1);
      digest.mockRestore();
      for (const input of ['', 'é😀', 'x'.repeat(5000)]) {
        expect(hex(await sha256(input))).toBe(hex(await node.sha256(input)));
      }
    } finally {
      holder.getBuiltinModule = original;
    }
  });

  it('the cache key (sync one-shot hash on Node, Web Crypto elsewhere) is the base64url SHA-256', async () => {
    const holder = process as { getBuiltinModule?: unknown };
    const original = holder.getBuiltinModule;
    holder.getBuiltinModule = undefined;
    try {
      vi.resetModules();
      const web = await import('../src/lib/sha256.js');
      holder.getBuiltinModule = original;
      vi.resetModules();
      const node = await import('../src/lib/sha256.js');
      expect(typeof node.sha256Base64url('abc')).toBe('string');
      expect(web.sha256Base64url('abc')).toBeInstanceOf(Promise);
      for (const input of ['abc', '', 'é😀', 'x'.repeat(5000)]) {
        const expected = Buffer.from(await node.sha256(input)).toString('base64url');
        expect(node.sha256Base64url(input)).toBe(expected);
        expect(await web.sha256Base64url(input)).toBe(expected);
      }
      expect(node.sha256Base64url('abc')).toBe(Buffer.from(ABC, 'hex').toString('base64url'));
    } finally {
      holder.getBuiltinModule = original;
    }
  });
});

describe('MCP transport security: the Origin/Host decision', () => {
  const publicCheck = createOriginCheck('https://mcp.example.com/mcp');
  const localCheck = createOriginCheck('http://localhost:8000/mcp');

  it('Host: the resource host (with or without its default port, any case) and loopback names', () => {
    for (const host of ['mcp.example.com', 'MCP.Example.com', 'mcp.example.com:443']) {
      expect(publicCheck(host, undefined)).toBeUndefined();
    }
    for (const host of ['localhost:3000', '127.0.0.1', '[::1]:8000', 'app.localhost']) {
      expect(publicCheck(host, undefined)).toBeUndefined();
    }
    for (const host of [
      'evil.example.com',
      'mcp.example.com.evil.test',
      'mcp.example.com:8443',
      '',
      undefined,
    ]) {
      expect(publicCheck(host, undefined)?.reason).toBe('host');
    }
  });

  it('RFC 6454 §7: Origin must be the resource origin; loopback pages only in development', () => {
    expect(publicCheck('mcp.example.com', 'https://mcp.example.com')).toBeUndefined();
    for (const origin of [
      'http://mcp.example.com',
      'https://mcp.example.com:8443',
      'http://localhost:6274',
      'null',
      'not a url',
    ]) {
      expect(publicCheck('mcp.example.com', origin)?.reason).toBe('origin');
    }
    expect(localCheck('localhost:8000', 'http://localhost:6274')).toBeUndefined();
    expect(localCheck('localhost:8000', 'http://[::1]:5173')).toBeUndefined();
    expect(localCheck('localhost:8000', 'http://evil.example.com')?.reason).toBe('origin');
    expect(localCheck('localhost:8000', 'file://')?.reason).toBe('origin');
  });

  it("allowLoopbackOrigins and '*' lists", () => {
    const strictLocal = createOriginCheck('http://localhost:8000/mcp', {
      allowLoopbackOrigins: false,
    });
    expect(strictLocal('localhost:8000', 'http://localhost:6274')?.reason).toBe('origin');
    expect(strictLocal('localhost:8000', 'http://localhost:8000')).toBeUndefined();
    const open = createOriginCheck('https://mcp.example.com/mcp', {
      allowedOrigins: '*',
      allowedHosts: '*',
    });
    expect(open('evil.example.com', 'http://evil.example.com')).toBeUndefined();
  });
});

describe('per-tool scopes: which tool a body calls, and whether scopes cover it', () => {
  const call = (name: unknown) => ({
    jsonrpc: '2.0',
    id: 1,
    method: 'tools/call',
    params: { name, arguments: {} },
  });

  it('a single tools/call names its tool; anything else names none (batches go the long way)', () => {
    expect(singleCalledTool(call('secure_operation'))).toBe('secure_operation');
    for (const body of [
      undefined,
      null,
      'tools/call',
      [call('secure_operation')],
      { ...call('x'), method: 'tools/list' },
      call(42),
      { jsonrpc: '2.0', id: 1, method: 'tools/call' },
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: null },
    ]) {
      expect(singleCalledTool(body), JSON.stringify(body)).toBeUndefined();
    }
    // The two agree wherever the single-call path answers.
    expect(calledToolNames(call('a'))).toEqual(['a']);
    expect(calledToolNames([call('a'), call('b')])).toEqual(['a', 'b']);
  });

  it('coversScopes agrees with missingScopes', () => {
    const cases: [string[], string[]][] = [
      [[], []],
      [['read'], []],
      [[], ['read']],
      [['read'], ['read']],
      [['read'], ['read', 'admin']],
      [
        ['admin', 'read'],
        ['read', 'admin'],
      ],
    ];
    for (const [granted, needed] of cases) {
      expect(coversScopes(granted, needed), `${granted} ⊇ ${needed}`).toBe(
        missingScopes(granted, needed).length === 0,
      );
    }
  });
});
