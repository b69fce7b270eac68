import type { LuaScript } from './script.js';

/** Atomic single-use consume (HMGET + HSET c, and the successor, in one script). */
export const consume: LuaScript = {
  name: 'consume',
  sha1: 'cd173a3d339615a2d0785d9e0206608830adb32e',
  source: `-- Marks a record consumed unless it already was: the check and the write are one step, so of
-- any number of concurrent callers exactly one gets {1, ...}.
-- KEYS: 1 record.  ARGV: 1 now (ms), 2 successor to store with it, or '',
-- 3 the clientId the record must carry, or '' (any), 4 a JSON object of top-level fields the
-- record must hold exactly (string values), or '' (none).
-- Returns nil (missing, expired, another client's, or not matching), {1, data, now, successor}
-- (consumed), {0, data, consumedAt, successor} (already).
local v = redis.call('HMGET', KEYS[1], 'd', 'e', 'c', 's')
if not v[1] then return false end
if v[2] ~= '' and tonumber(v[2]) <= tonumber(ARGV[1]) then return false end
if ARGV[3] ~= '' or ARGV[4] ~= '' then
  local record = cjson.decode(v[1])
  if ARGV[3] ~= '' and record.clientId ~= ARGV[3] then return false end
  if ARGV[4] ~= '' then
    for key, value in pairs(cjson.decode(ARGV[4])) do
      if record[key] ~= value then return false end
    end
  end
end
if v[3] then return {0, v[1], v[3], v[4] or ''} end
redis.call('HSET', KEYS[1], 'c', ARGV[1])
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 's', ARGV[2]) end
return {1, v[1], ARGV[1], ARGV[2]}
`,
};
