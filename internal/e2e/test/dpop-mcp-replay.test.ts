import { createProof, generateProofKey, jwkThumbprint } from '@portcullis/dpop';
import { serviceAvailable, TEST_REDIS_URL } from '@portcullis/internal-testing';
import { type McpServer, startMcpServer } from '@portcullis/internal-testing/apps';
import { createTestIssuer, type TestIssuer } from '@portcullis/mcp-context/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** Both instances serve one public MCP URL, as behind a load balancer. */
const RESOURCE = 'http://mcp.test/mcp';

/**
 * The template MCP server with MCP_DPOP: one DPoP proof is accepted once across instances that
 * share REDIS_URL (the proofs' replay memory), and at each instance that has only its own.
 */
describe.runIf(await serviceAvailable('Redis'))('MCP_DPOP across two MCP server instances', () => {
  let issuer: TestIssuer;
  const started: McpServer[] = [];

  beforeAll(async () => {
    issuer = await createTestIssuer();
  });
  afterAll(async () => {
    await Promise.all(started.map((server) => server.close()));
    await issuer?.close();
  });

  async function twoInstances(env: Record<string, string>) {
    const pair = await Promise.all(
      [0, 1].map(() =>
        startMcpServer({
          env: {
            ISSUER_URL: issuer.issuer,
            JWKS_URI: issuer.jwksUri,
            MCP_RESOURCE_URL: RESOURCE,
            MCP_DPOP: 'optional',
            ...env,
          },
        }),
      ),
    );
    started.push(...pair);
    return pair;
  }

  /** A token bound to a fresh key, and one proof for it, sent to each instance in turn. */
  async function sameProofAtBoth(instances: McpServer[]) {
    const key = await generateProofKey();
    const token = await issuer.mintToken(
      {
        sub: `user-${crypto.randomUUID()}`,
        client_id: 'c',
        aud: RESOURCE,
        scope: 'read',
        cnf: { jkt: await jwkThumbprint(key.publicJwk) },
      },
      { expiresIn: 600 },
    );
    const proof = await createProof({ ...key, method: 'POST', url: RESOURCE, accessToken: token });
    const answers: Response[] = [];
    for (const instance of instances) {
      answers.push(
        await fetch(instance.url, {
          method: 'POST',
          headers: {
            authorization: `DPoP ${token}`,
            dpop: proof,
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
          },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
        }),
      );
    }
    return answers;
  }

  it('with REDIS_URL the second instance refuses the proof the first accepted (401 invalid_dpop_proof)', async () => {
    const [first, second] = await sameProofAtBoth(
      await twoInstances({ REDIS_URL: TEST_REDIS_URL }),
    );
    expect(first!.status).toBe(200);
    expect(second!.status).toBe(401);
    // Bearer and DPoP challenges (RFC 9449 §7.1); the DPoP one says why.
    expect(second!.headers.get('www-authenticate')).toMatch(
      /DPoP [\s\S]*error="invalid_dpop_proof", error_description="The DPoP proof has been used before"/,
    );
  });

  it('control: without REDIS_URL each instance remembers only its own proofs, so both accept it', async () => {
    const [first, second] = await sameProofAtBoth(await twoInstances({}));
    expect(first!.status).toBe(200);
    expect(second!.status).toBe(200);
  });
});
