import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { authContext, requireScopes } from '@portcullis/mcp-context';
import { json } from './context.js';

/**
 * The guide's `secure_operation`: needs `admin`. The HTTP layer already answered a token without
 * it with a 403 step-up challenge; the check here stays in case the tool is reached another way.
 */
export function registerSecureOperation(server: McpServer) {
  server.registerTool(
    'secure_operation',
    {
      description: 'Performs a secure operation. Requires the admin scope.',
      annotations: { destructiveHint: false },
    },
    async (extra) => {
      const ctx = authContext(extra);
      requireScopes(ctx, 'admin');
      return json({ message: `Secure operation completed for user ${ctx.userId ?? ctx.clientId}` });
    },
  );
}
