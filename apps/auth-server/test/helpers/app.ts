import {
  type AuthServerOptions,
  startAuthServer,
  startAuthServerExpectingFailure,
} from '@portcullis/internal-testing/apps';

/** The one MCP server these tests issue tokens for (never started: only its URL matters). */
export const MCP_RESOURCE = 'http://127.0.0.1:8000/mcp';

/**
 * The built app with `next start` on a free port, issuing tokens for MCP_RESOURCE. It must answer
 * within 45 s, so a slow start fails with its output before the 60 s test timeout.
 */
export function startApp(options: Omit<AuthServerOptions, 'resources'> = {}) {
  return startAuthServer({ resources: [MCP_RESOURCE], readyTimeoutMs: 45_000, ...options });
}

/** Runs `next start` with `env` expecting it to refuse to start; resolves its exit code and output. */
export function startAppExpectingFailure(env: Record<string, string>) {
  return startAuthServerExpectingFailure({ resources: [MCP_RESOURCE], env });
}
