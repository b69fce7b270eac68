// `pnpm start` in this app: `next start`, listening on loopback only in development mode,
// where the dev login lets anyone who reaches the page sign in as anyone. Development mode is
// config.ts's rule: not on Vercel, and an ISSUER_URL (default http://localhost:3000) on a
// loopback host. DEV_ALLOW_REMOTE=true listens on every interface anyway, as production does.
// PORT defaults to 3000. Arguments go to `next start`.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const env = (name) => process.env[name]?.trim() || undefined;
const issuer = env('ISSUER_URL') ?? 'http://localhost:3000';
let loopbackIssuer = false;
try {
  loopbackIssuer = ['localhost', '127.0.0.1', '[::1]'].includes(new URL(issuer).hostname);
} catch {
  // config.ts stops the server with one line naming ISSUER_URL.
}
const development = env('VERCEL') !== '1' && loopbackIssuer;
const allowRemote = ['true', '1', 'yes', 'on'].includes(env('DEV_ALLOW_REMOTE')?.toLowerCase());
const host = development && !allowRemote ? '127.0.0.1' : undefined;

const next = fileURLToPath(new URL('../node_modules/next/dist/bin/next', import.meta.url));
const args = [next, 'start', '-p', env('PORT') ?? '3000', ...(host ? ['-H', host] : [])];
const child = spawn(process.execPath, [...args, ...process.argv.slice(2)], { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => {
  process.exitCode = code ?? (signal === 'SIGINT' ? 130 : 143);
});
