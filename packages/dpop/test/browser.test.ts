import { mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromiumAvailable, launchChromium, serveFolder } from '@portcullis/internal-testing';
import { describe, expect, it } from 'vitest';

const dist = fileURLToPath(new URL('../dist', import.meta.url));
// jose's Web Crypto build, the one its "default" export condition names.
const jose = join(
  dirname(realpathSync(createRequire(import.meta.url).resolve('jose/package.json'))),
  'dist/webapi',
);

// The built package, not the sources: what npm users load must run in a browser unchanged.
describe.runIf(chromiumAvailable())('in a real browser (Debian Chromium)', () => {
  it('the built ESM package makes, verifies and refuses proofs, and hashes the RFC 7638 vector, in Chromium', async () => {
    const root = mkdtempSync(join(tmpdir(), 'dpop-browser-'));
    symlinkSync(dist, join(root, 'dpop'));
    symlinkSync(jose, join(root, 'jose'));
    const server = await serveFolder(root);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(server.url);
      // A string, not a function: Vitest rewrites `import()` inside functions it transforms.
      const result = await page.evaluate(`(async () => {
        const map = document.createElement('script');
        map.type = 'importmap';
        map.textContent = JSON.stringify({ imports: { jose: '${server.url}/jose/index.js' } });
        document.head.append(map);
        const d = await import('${server.url}/dpop/index.js');
        const url = 'https://mcp.example.com/mcp';
        const replay = d.createMemoryReplayStore();
        const nonces = d.createNonceIssuer({ secret: 'a browser secret of thirty-two bytes' });
        const nonce = await nonces.issue();
        const key = await d.generateProofKey('ES256');
        const proof = await d.createProof({ ...key, method: 'POST', url, accessToken: 't', nonce });
        const verified = await d.verifyProof(proof, { method: 'POST', url, accessToken: 't', nonce: nonces, replay });
        const again = await d.verifyProof(proof, { method: 'POST', url, accessToken: 't', replay }).catch((e) => e.check);
        return {
          bound: d.checkBinding(await d.jwkThumbprint(key.publicJwk), verified.jkt),
          again,
          rfc7638: await d.jwkThumbprint({ kty: 'RSA', e: 'AQAB', n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw' }),
          hasNodeProcess: typeof globalThis.process !== 'undefined',
        };
      })()`);
      expect(result).toEqual({
        bound: true,
        again: 'replay',
        rfc7638: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs',
        hasNodeProcess: false,
      });
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
      await server.close();
      rmSync(root, { recursive: true, force: true });
    }
  }, 60_000);
});
