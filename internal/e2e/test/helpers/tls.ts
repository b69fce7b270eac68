import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

/**
 * A self-signed certificate for 127.0.0.1, made with the system's openssl. The authorization
 * server trusts it through NODE_EXTRA_CA_CERTS, as a developer would trust a local CA.
 */
export function selfSignedCertificate(dir: string): {
  certFile: string;
  key: Buffer;
  cert: Buffer;
} {
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  return { certFile, key: readFileSync(keyFile), cert: readFileSync(certFile) };
}

/**
 * Serves JSON documents over HTTPS on 127.0.0.1 at a free port; counts the fetches.
 * `cacheControl` (no-store by default: every use fetches again) is sent with each document.
 */
export async function serveJsonOverHttps(
  tls: { key: Buffer; cert: Buffer },
  documents: (origin: string) => Record<string, unknown>,
  cacheControl = 'no-store',
): Promise<{ origin: string; fetches: string[]; close: () => Promise<void> }> {
  const fetches: string[] = [];
  let origin = '';
  const server = https.createServer(tls, (req, res) => {
    const pathname = new URL(req.url ?? '/', origin).pathname;
    fetches.push(pathname);
    const body = documents(origin)[pathname];
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': cacheControl });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    fetches,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
