import type { ServerContext } from '@modelcontextprotocol/server';
import { authContext } from '@portcullis/mcp-context';

/** The caller of a tool: the `AuthInfo` the SDK hands each request's handler (`ctx.http.authInfo`). */
export function caller(ctx: ServerContext) {
  return authContext(ctx.http);
}

/** A tool result with one JSON text block, the shape the guide's tools return. */
export function json(value: unknown) {
  return { content: [{ type: 'text' as const, text: JSON.stringify(value) }] };
}
