import type { McpServer } from '@modelcontextprotocol/server';
import { authContext, rateLimit } from '@portcullis/mcp-context';
import type { RateLimiter } from '@portcullis/rate-limit';
import { callerOf } from './caller.js';
import { json } from './context.js';

/** The guide's `rate_limited_tool`: a per-user (or per machine client) limit shared by every instance when Redis is configured. */
export function registerRateLimitedTool(server: McpServer, limiter: RateLimiter) {
  server.registerTool(
    'rate_limited_tool',
    { description: 'A tool with a per-user rate limit.', annotations: { readOnlyHint: true } },
    async (ctx) => {
      const auth = authContext(ctx);
      // Per user; a machine client has its own key, never one a user's id could share.
      const caller = callerOf(auth);
      await rateLimit(
        auth,
        limiter,
        caller.kind === 'machine' ? { key: `client:${caller.id}` } : {},
      );
      return json({ message: 'Operation completed' });
    },
  );
}
