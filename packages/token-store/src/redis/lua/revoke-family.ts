import type { LuaScript } from './script.js';

/** Deletes every record of a family, then the family set. Returns how many records existed. */
export const revokeFamily: LuaScript = {
  name: 'revoke-family',
  sha1: 'd1d55f8a572dba0329ac008ea43201720d55b653',
  source: `-- Deletes every record of a family, then the family set. Returns how many records existed.
-- KEYS: 1 family set.
local n = 0
for _, key in ipairs(redis.call('SMEMBERS', KEYS[1])) do n = n + redis.call('DEL', key) end
redis.call('DEL', KEYS[1])
return n
`,
};
