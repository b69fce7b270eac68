import { feedFrom, purge } from './feed.js';
import type { LuaScript } from './script.js';

/**
 * Sets the family's revocation marker, then deletes every record of the family and the family
 * set, in one step, listing the unexpired access tokens in the revocation feed. Returns how many
 * records existed.
 */
export const revokeFamily: LuaScript = {
  name: 'revoke-family',
  sha1: '6c6347404b9993edd4bdf45b545c69d0b8703175',
  source: `-- Sets the family's revocation marker (kept as long as the family set, which lives as long as
-- the family's longest-lived record, and at least ARGV[2] ms), then deletes every record of the
-- family and the family set, listing each unexpired access token in the revocation feed.
-- Returns how many records existed.
-- KEYS: 1 family set, 2 revocation marker, 3 feed order set, 4 feed expiry set.
-- ARGV: 1 revokedAt (ms), 2 minimum retention (ms), 3 revokedAt as 15 digits,
--       4 key prefix of access-token records.
local keep = tonumber(ARGV[2])
local family = redis.call('PTTL', KEYS[1])
if family == -1 then keep = -1 elseif family > keep then keep = family end
local current = redis.call('PTTL', KEYS[2])
if current == -2 then redis.call('SET', KEYS[2], ARGV[1]) end
if keep == -1 then
  redis.call('PERSIST', KEYS[2])
elseif current ~= -1 and current < keep then
  redis.call('PEXPIRE', KEYS[2], keep)
end
${purge('KEYS[3]', 'KEYS[4]', 'ARGV[1]')}
${feedFrom('KEYS[3]', 'KEYS[4]', 'ARGV[1]', 'ARGV[3]', 'ARGV[4]')}
local n = 0
for _, key in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  feed(key)
  n = n + redis.call('DEL', key)
end
redis.call('DEL', KEYS[1])
return n
`,
};
