/**
 * Names of the tools a JSON-RPC POST body calls: one message or a batch (MCP 2025-03-26
 * allowed batches; later revisions dropped them, but a server may still be sent one).
 * Anything that is not a well-formed `tools/call` is ignored here: the MCP transport, not the
 * auth layer, answers malformed JSON-RPC.
 */
export function calledToolNames(body: unknown): string[] {
  const messages = Array.isArray(body) ? body : [body];
  const names: string[] = [];
  for (const message of messages) {
    if (typeof message !== 'object' || message === null) continue;
    const { method, params } = message as { method?: unknown; params?: unknown };
    if (method !== 'tools/call' || typeof params !== 'object' || params === null) continue;
    const name = (params as { name?: unknown }).name;
    if (typeof name === 'string') names.push(name);
  }
  return names;
}

/**
 * The tool one JSON-RPC message calls, when the body is a single well-formed `tools/call`
 * (what every MCP client sends); `undefined` for anything else, batches included.
 */
export function singleCalledTool(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const { method, params } = body as { method?: unknown; params?: unknown };
  if (method !== 'tools/call' || typeof params !== 'object' || params === null) return undefined;
  const name = (params as { name?: unknown }).name;
  return typeof name === 'string' ? name : undefined;
}
