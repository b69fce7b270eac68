import type { LuaScript } from './script.js';

/**
 * The once-only store: remembers a key until its expiry unless a live entry of it is held, in
 * one step. The entry holds its expiry by the store's clock (which tests may inject) and lives
 * in Redis that long (a native TTL), so nothing outlasts it.
 */
export const remember: LuaScript = {
  name: 'remember',
  sha1: 'a52cda9591b1f3e38a04b72047b0825cd6384237',
  source: `-- KEYS: 1 the entry.  ARGV: 1 expiresAt ms, 2 now ms (the store's clock).
-- Returns 1 (it was not held: now remembered) or 0 (held).
local held = tonumber(redis.call('GET', KEYS[1]))
local now = tonumber(ARGV[2])
if held and held > now then return 0 end
local ttl = tonumber(ARGV[1]) - now
if ttl > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
else
  redis.call('DEL', KEYS[1])
end
return 1
`,
};
