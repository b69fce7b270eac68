/**
 * A Lua script run with EVALSHA, falling back to EVAL when the server does not know it yet
 * (NOSCRIPT: a fresh or restarted Redis). `sha1` is pinned; a test recomputes it from `source`.
 */
export interface LuaScript {
  name: string;
  sha1: string;
  source: string;
}
