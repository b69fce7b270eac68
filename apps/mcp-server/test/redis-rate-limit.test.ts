import net from 'node:net';
import { createTestIssuer, type TestIssuer } from '@portcullis/mcp-context/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type RunningApp, startApp } from './support.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

async function redisReachable(): Promise<boolean> {
  const { hostname, port } = new URL(REDIS_URL);
  const ok = await new Promise<boolean>((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port) || 6379 });
    socket.setTimeout(1500, () => resolve(false));
    socket.once('connect', () => resolve(true));
    socket.once('error', () => resolve(false));
  }).finally(() => undefined);
  if (ok) return true;
  if (process.env.CI === 'true')
    throw new Error(`Redis at ${REDIS_URL} is unreachable, and CI=true requires it`);
  console.warn(
    `[skip] Redis at ${REDIS_URL} is unreachable: the shared rate-limit test is skipped`,
  );
  return false;
}

describe.runIf(await redisReachable())('REDIS_URL: two instances share one rate limit', () => {
  let issuer: TestIssuer;
  let a: RunningApp;
  let b: RunningApp;

  beforeAll(async () => {
    issuer = await createTestIssuer();
    const env = {
      AUTH_MODE: 'oauth',
      ISSUER_URL: issuer.issuer,
      JWKS_URI: issuer.jwksUri,
      REDIS_URL,
      RATE_LIMIT_PER_MINUTE: '4',
      // Both instances serve the same public MCP URL, as they would behind a load balancer.
      MCP_RESOURCE_URL: 'http://mcp.test/mcp',
    };
    a = await startApp(env);
    b = await startApp(env);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await issuer?.close();
  });

  it('admits the limit once across both instances, then refuses on either', async () => {
    // A fresh user per run: the limit lives in the shared Redis for a minute.
    const user = `user-${crypto.randomUUID()}`;
    const token = await issuer.mintToken(
      { sub: user, client_id: 'c', aud: 'http://mcp.test/mcp', scope: 'read' },
      { expiresIn: 600 },
    );
    const clients = [await connect(a.url, token), await connect(b.url, token)];
    const outcomes: boolean[] = [];
    for (let i = 0; i < 8; i++) {
      const client = clients[i % 2]!;
      const result = await client.callTool({ name: 'rate_limited_tool', arguments: {} });
      outcomes.push(!result.isError);
    }
    expect(outcomes.filter(Boolean)).toHaveLength(4);
    expect(outcomes.slice(4)).toEqual([false, false, false, false]);
    for (const client of clients) await client.close();
  });
});
