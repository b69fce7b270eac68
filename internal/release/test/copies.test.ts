// Small helpers each package keeps its own copy of, so that no package depends on a private
// one at run time: every copy holds the canonical text in internal/release/canonical/ verbatim.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { base64url } from '../canonical/base64url.js';
import { ROOT } from '../src/workspace.mjs';

const CANONICAL = path.join(ROOT, 'internal/release/canonical');

/** Every .ts file under packages/<name>/src, relative to the root. */
function packageSources(): string[] {
  const packages = path.join(ROOT, 'packages');
  return readdirSync(packages).flatMap((member) =>
    (readdirSync(path.join(packages, member, 'src'), { recursive: true }) as string[])
      .filter((file) => file.endsWith('.ts'))
      .map((file) => path.join('packages', member, 'src', file)),
  );
}

describe.each([
  { file: 'coded-type-error.ts', declares: /\bclass CodedTypeError\b/, atLeast: 5 },
  { file: 'base64url.ts', declares: /\bfunction base64url\(/, atLeast: 3 },
  // The OpenTelemetry shapes the tracing code uses (oauth-server, mcp-context); the functions,
  // which throw each package's own argument errors, stay outside the shared text.
  { file: 'tracing.ts', declares: /\bexport interface SpanLike\b/, atLeast: 2 },
])('canonical/$file', ({ file, declares, atLeast }) => {
  const canonical = readFileSync(path.join(CANONICAL, file), 'utf8');
  const copies = packageSources().filter((source) =>
    declares.test(readFileSync(path.join(ROOT, source), 'utf8')),
  );

  it(`is copied into every package that declares it (${atLeast} or more)`, () => {
    expect(copies.length).toBeGreaterThanOrEqual(atLeast);
  });

  it.each(copies)('%s holds the canonical text verbatim', (source) => {
    const text = readFileSync(path.join(ROOT, source), 'utf8');
    expect(
      text.includes(canonical),
      `${source} differs from internal/release/canonical/${file}: change the canonical file and every copy together`,
    ).toBe(true);
  });
});

describe('canonical base64url', () => {
  it('RFC 4648 §10 test vectors, without padding', () => {
    const vectors = ['', 'f', 'fo', 'foo', 'foob', 'fooba', 'foobar'];
    expect(vectors.map((v) => base64url(new TextEncoder().encode(v)))).toEqual([
      '',
      'Zg',
      'Zm8',
      'Zm9v',
      'Zm9vYg',
      'Zm9vYmE',
      'Zm9vYmFy',
    ]);
  });

  it("equals Node's base64url for any bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 70 }), (bytes) => {
        expect(base64url(bytes)).toBe(Buffer.from(bytes).toString('base64url'));
      }),
    );
  });
});
