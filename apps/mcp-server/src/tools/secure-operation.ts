import type { McpServer } from '@modelcontextprotocol/server';
import { authContext } from '@portcullis/mcp-context';
import { callerOf } from './caller.js';
import { json } from './context.js';

/** The guide's `secure_operation`: needs `admin` (declared in ./scopes.ts). */
export function registerSecureOperation(server: McpServer) {
  server.registerTool(
    'secure_operation',
    {
      description: 'Performs a secure operation. Requires the admin scope.',
      annotations: { destructiveHint: false },
    },
    async (ctx) => {
      return json({
        message: `Secure operation completed for ${callerOf(authContext(ctx)).label}`,
      });
    },
  );
}
