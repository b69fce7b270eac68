import type { LuaScript } from './script.js';

/** Atomic single-use consume (HMGET + HSET c in one script). */
export const consume: LuaScript = {
  name: 'consume',
  sha1: '29d0b1a33cb00d361d02d703c355b6b2f792640a',
  source: `-- Marks a record consumed unless it already was: the check and the write are one step, so of
-- any number of concurrent callers exactly one gets {1, ...}.
-- KEYS: 1 record.  ARGV: 1 now (ms).
-- Returns nil (missing or expired), {1, data, now} (consumed), {0, data, consumedAt} (already).
local v = redis.call('HMGET', KEYS[1], 'd', 'e', 'c')
if not v[1] then return false end
if v[2] ~= '' and tonumber(v[2]) <= tonumber(ARGV[1]) then return false end
if v[3] then return {0, v[1], v[3]} end
redis.call('HSET', KEYS[1], 'c', ARGV[1])
return {1, v[1], ARGV[1]}
`,
};
