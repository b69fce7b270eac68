import type { LuaScript } from './script.js';

/**
 * Stores one record as a hash and adds it to its indexes, in one step; a record of a revoked
 * family is refused in that same step.
 */
export const setRecord: LuaScript = {
  name: 'set',
  sha1: 'f963f63a8ee8838d86333742df914f2d9d7fc4ac',
  source: `-- Stores one record as a hash and adds it to its indexes, in one step. A record of a family
-- whose revocation marker exists is not stored: the check and the write are one step.
-- KEYS: 1 record, 2 family set, 3 user set, 4 kind set, 5 family revocation marker, 6 another
--       record to read in the same step (optional)
-- ARGV: 1 data (JSON), 2 expiresAt ms or '', 3 consumedAt ms or '', 4 familyId or '',
--       5 userId or '', 6 physical TTL ms or '' (none), 7 id, 8 '1' to add to the kind set
-- Returns 1 (stored) or 0 (the family is revoked); with KEYS[6], {1 or 0, and its d, e, c, s}.
local key = KEYS[1]
local function result(stored)
  if not KEYS[6] then return stored end
  local r = redis.call('HMGET', KEYS[6], 'd', 'e', 'c', 's')
  return {stored, r[1], r[2], r[3], r[4]}
end
if ARGV[4] ~= '' and redis.call('EXISTS', KEYS[5]) == 1 then return result(0) end
redis.call('DEL', key)
redis.call('HSET', key, 'd', ARGV[1], 'e', ARGV[2], 'f', ARGV[4], 'u', ARGV[5])
if ARGV[3] ~= '' then redis.call('HSET', key, 'c', ARGV[3]) end
local ttl = tonumber(ARGV[6])
if ttl then redis.call('PEXPIRE', key, ttl) end
-- An index set lives as long as its longest-lived member; a member without expiry pins it.
local function index(set, member)
  local current = redis.call('PTTL', set)
  local existed = current ~= -2 -- PTTL: -2 when the key does not exist
  redis.call('SADD', set, member)
  if not ttl then
    redis.call('PERSIST', set)
  elseif not existed or (current >= 0 and current < ttl) then
    redis.call('PEXPIRE', set, ttl)
  end
end
if ARGV[4] ~= '' then index(KEYS[2], key) end
if ARGV[5] ~= '' then index(KEYS[3], ARGV[7]) end
if ARGV[8] == '1' then index(KEYS[4], ARGV[7]) end
return result(1)
`,
};
