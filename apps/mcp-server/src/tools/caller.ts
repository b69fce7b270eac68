import type { ToolAuthContext } from '@portcullis/mcp-context';

/**
 * Who is calling a tool: a person (through an app, `clientId`), or a machine client acting for
 * itself with a client credentials token (RFC 6749 §4.4). RFC 9068 §2.2 makes such a token's
 * `sub` the client's own id, so the token's `sub` equal to its `client_id` means no user: say
 * "machine client X" rather than treat the client as a person. Tokens without those claims (a
 * static token) are a user's, as before.
 */
export type Caller =
  | { kind: 'user'; id: string; label: string }
  | { kind: 'machine'; id: string; label: string };

export function callerOf(auth: ToolAuthContext): Caller {
  const { sub, client_id: clientId } = auth.claims;
  if (typeof sub === 'string' && sub === clientId) {
    return { kind: 'machine', id: sub, label: `machine client ${sub}` };
  }
  const id = auth.userId ?? auth.clientId;
  return { kind: 'user', id, label: `user ${id}` };
}
