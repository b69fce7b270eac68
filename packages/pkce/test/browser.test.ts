import { fileURLToPath } from 'node:url';
import { chromiumAvailable, launchChromium, serveFolder } from '@portcullis/internal-testing';
import { describe, expect, it } from 'vitest';

const dist = fileURLToPath(new URL('../dist', import.meta.url));

// The built package, not the sources: what npm users load must run in a browser unchanged.
describe.runIf(chromiumAvailable())('in a real browser (Debian Chromium)', () => {
  it('RFC 7636 Appendix B: the built ESM package computes and verifies the vector in Chromium', async () => {
    const server = await serveFolder(dist);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(server.url);
      // A string, not a function: Vitest rewrites `import()` inside functions it transforms.
      const result = await page.evaluate(`(async () => {
        const pkce = await import('${server.url}/index.js');
        const pair = await pkce.createPkcePair();
        return {
          challenge: await pkce.createCodeChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'),
          verifies: await pkce.verifyCodeChallenge(
            'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk',
            'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
          ),
          pairVerifies: await pkce.verifyCodeChallenge(pair.codeVerifier, pair.codeChallenge),
          hasNodeBuffer: typeof globalThis.Buffer !== 'undefined',
        };
      })()`);
      expect(result).toEqual({
        challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        verifies: true,
        pairVerifies: true,
        hasNodeBuffer: false,
      });
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
      await server.close();
    }
  }, 60_000);
});
