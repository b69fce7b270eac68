import type { LuaScript } from './script.js';

/**
 * Stores several records of one family (a grant's access and refresh token) and indexes them,
 * in one step with one check of the family's revocation marker.
 */
export const setMany: LuaScript = {
  name: 'set-many',
  sha1: '2a3dfeece0872b5febe3c9015f4beb8bfa78ea80',
  source: `-- Stores N records of one family as hashes and adds them to their indexes, in one step; none
-- is stored when the family's revocation marker exists.
-- KEYS: 1 family revocation marker, 2 family set, then for each record i (from 0):
--       3 + 2i record key, 4 + 2i user set
-- ARGV: 1 familyId, then for each record i: 2 + 6i data (JSON), 3 + 6i expiresAt ms or '',
--       4 + 6i consumedAt ms or '', 5 + 6i userId or '', 6 + 6i physical TTL ms or '' (none),
--       7 + 6i id
-- Returns 1 (stored) or 0 (the family is revoked).
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
-- An index set lives as long as its longest-lived member; a member without expiry pins it.
local function index(set, member, ttl)
  local current = redis.call('PTTL', set)
  local existed = current ~= -2 -- PTTL: -2 when the key does not exist
  redis.call('SADD', set, member)
  if not ttl then
    redis.call('PERSIST', set)
  elseif not existed or (current >= 0 and current < ttl) then
    redis.call('PEXPIRE', set, ttl)
  end
end
for i = 0, (#KEYS - 2) / 2 - 1 do
  local key = KEYS[3 + 2 * i]
  local a = 2 + 6 * i
  local ttl = tonumber(ARGV[a + 4])
  redis.call('DEL', key)
  redis.call('HSET', key, 'd', ARGV[a], 'e', ARGV[a + 1], 'f', ARGV[1], 'u', ARGV[a + 3])
  if ARGV[a + 2] ~= '' then redis.call('HSET', key, 'c', ARGV[a + 2]) end
  if ttl then redis.call('PEXPIRE', key, ttl) end
  index(KEYS[2], key, ttl)
  if ARGV[a + 3] ~= '' then index(KEYS[4 + 2 * i], ARGV[a + 5], ttl) end
end
return 1
`,
};
