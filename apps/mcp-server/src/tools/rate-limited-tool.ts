import type { McpServer } from '@modelcontextprotocol/server';
import { authContext, rateLimit } from '@portcullis/mcp-context';
import type { RateLimiter } from '@portcullis/rate-limit';
import { json } from './context.js';

/** The guide's `rate_limited_tool`: a per-user limit shared by every instance when Redis is configured. */
export function registerRateLimitedTool(server: McpServer, limiter: RateLimiter) {
  server.registerTool(
    'rate_limited_tool',
    { description: 'A tool with a per-user rate limit.', annotations: { readOnlyHint: true } },
    async (ctx) => {
      await rateLimit(authContext(ctx), limiter);
      return json({ message: 'Operation completed' });
    },
  );
}
