import type { NextConfig } from 'next';

// Every page is a login, consent or account screen: none may be framed (clickjacking,
// RFC 6749 §10.13) and none may be cached or leak its URL (which carries state) as a Referer.
const pageSecurity = [
  {
    key: 'Content-Security-Policy',
    value: "frame-ancestors 'none'; base-uri 'self'; object-src 'none'",
  },
  { key: 'X-Frame-Options', value: 'DENY' },
  { key: 'X-Content-Type-Options', value: 'nosniff' },
  { key: 'Referrer-Policy', value: 'same-origin' },
  { key: 'Cache-Control', value: 'no-store' },
];

const nextConfig: NextConfig = {
  poweredByHeader: false,
  // The build checks the app only; `pnpm typecheck` (tsconfig.json) also covers the tests.
  typescript: { tsconfigPath: 'tsconfig.app.json' },
  reactStrictMode: true,
  // Native and WASM drivers load files relative to themselves: Node loads them as published.
  serverExternalPackages: ['@electric-sql/pglite', 'pg', 'ioredis', 'jose'],
  async headers() {
    return [
      { source: '/:path*', headers: pageSecurity.slice(0, 4) },
      ...['/login', '/consent', '/account', '/authorize/:path*'].map((source) => ({
        source,
        headers: pageSecurity.slice(4),
      })),
    ];
  },
};

export default nextConfig;
