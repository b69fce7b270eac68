import net from 'node:net';

/** The Postgres and Redis the tests use; the machine's own by default. */
export const TEST_DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export const isCI = process.env.CI === 'true' || process.env.CI === '1';

function reachable(url: string, defaultPort: number, timeoutMs = 1500): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({
      host: hostname || '127.0.0.1',
      port: Number(port) || defaultPort,
    });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Whether a service the suite needs can be reached. On a developer's laptop an unreachable
 * server skips the suite with a printed reason; under `CI=true` it fails the run instead.
 */
export async function serviceAvailable(
  name: 'Postgres' | 'Redis',
  url = name === 'Postgres' ? TEST_DATABASE_URL : TEST_REDIS_URL,
): Promise<boolean> {
  const ok = await reachable(url, name === 'Postgres' ? 5432 : 6379);
  if (ok) return true;
  const safeUrl = url.replace(/\/\/[^@/]*@/, '//***@');
  if (isCI) throw new Error(`${name} at ${safeUrl} is unreachable, and CI=true requires it`);
  console.warn(
    `[skip] ${name} at ${safeUrl} is unreachable: its tests are skipped on this machine`,
  );
  return false;
}
