import type { LuaScript } from './script.js';

/** Deletes one record and its index entries. Returns 1 when it existed. */
export const deleteRecord: LuaScript = {
  name: 'delete',
  sha1: 'f4ab1416becc678c1929191f421c61089ca1c9ab',
  source: `-- Deletes one record and its index entries. Returns 1 when it existed.
-- KEYS: 1 record.  ARGV: 1 key prefix, 2 kind, 3 id.
local v = redis.call('HMGET', KEYS[1], 'f', 'u')
if redis.call('DEL', KEYS[1]) == 0 then return 0 end
if v[1] and v[1] ~= '' then redis.call('SREM', ARGV[1] .. 'f:' .. v[1], KEYS[1]) end
if v[2] and v[2] ~= '' then redis.call('SREM', ARGV[1] .. 'u:' .. ARGV[2] .. ':' .. v[2], ARGV[3]) end
redis.call('SREM', ARGV[1] .. 'k:' .. ARGV[2], ARGV[3])
return 1
`,
};
