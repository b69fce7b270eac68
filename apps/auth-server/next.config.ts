import type { NextConfig } from 'next';
import { EVERY_RESPONSE, PAGES } from './src/lib/security-headers';

const nextConfig: NextConfig = {
  poweredByHeader: false,
  // No gzip in the server: its answers are small JSON and pages that carry tokens and CSRF
  // values, which compression beside reflected input would expose (BREACH); it cost the token
  // endpoint 4-6% of its CPU. A proxy in front may compress what it judges safe.
  compress: false,
  // The build checks the app only; `pnpm typecheck` (tsconfig.json) also covers the tests.
  typescript: { tsconfigPath: 'tsconfig.app.json' },
  reactStrictMode: true,
  // Native and WASM drivers load files relative to themselves: Node loads them as published.
  serverExternalPackages: ['@electric-sql/pglite', 'pg', 'ioredis', 'jose'],
  async headers() {
    return [
      { source: '/:path*', headers: EVERY_RESPONSE },
      ...['/login', '/consent', '/account', '/authorize/:path*'].map((source) => ({
        source,
        headers: PAGES,
      })),
    ];
  },
};

export default nextConfig;
