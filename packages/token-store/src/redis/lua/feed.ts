import type { LuaScript } from './script.js';

// The revocation feed: two sorted sets sharing members `<revokedAt, 15 digits>:<id>`. The order
// set scores every member 0, so it sorts bytewise (ZRANGE … BYLEX): by revokedAt, then id. The
// expiry set scores each member with its token's expiry (ms), so expired entries are found and
// dropped from both. On a Cluster both carry the hash tag `{rv}`.

/** Lua that drops up to `count` expired entries (order set, expiry set and now: Lua expressions). */
export const purge = (order: string, expiry: string, now: string, count = 100) =>
  `for _, m in ipairs(redis.call('ZRANGE', ${expiry}, '-inf', ${now}, 'BYSCORE', 'LIMIT', 0, ${count})) do
  redis.call('ZREM', ${order}, m)
  redis.call('ZREM', ${expiry}, m)
end`;

/**
 * Lua defining `feed(key)`: lists the record under `key` in the feed at `position` when it is an
 * access token (its key starts with `prefix`) that has not expired by `now`.
 */
export const feedFrom = (
  order: string,
  expiry: string,
  now: string,
  position: string,
  prefix: string,
) =>
  `local function feed(key)
  if string.sub(key, 1, #${prefix}) ~= ${prefix} then return end
  local e = redis.call('HGET', key, 'e')
  if e and e ~= '' and tonumber(e) > tonumber(${now}) then
    local member = ${position} .. ':' .. string.sub(key, #${prefix} + 1)
    redis.call('ZADD', ${order}, 0, member)
    redis.call('ZADD', ${expiry}, e, member)
  end
end`;

/**
 * Deletes one access token and its index entries, listing it in the revocation feed when
 * unexpired, in one step. Returns 1 when it existed.
 */
export const revokeAccessToken: LuaScript = {
  name: 'revoke-access-token',
  sha1: 'c69843039448e386c13a0a7694c21a3b4ce567b2',
  source: `-- Deletes one access token and its index entries; lists it in the revocation feed when it
-- has not expired. Returns 1 when it existed.
-- KEYS: 1 record, 2 feed order set, 3 feed expiry set.
-- ARGV: 1 key prefix, 2 id, 3 now (ms), 4 now as 15 digits, 5 key prefix of access-token records.
${purge('KEYS[2]', 'KEYS[3]', 'ARGV[3]')}
${feedFrom('KEYS[2]', 'KEYS[3]', 'ARGV[3]', 'ARGV[4]', 'ARGV[5]')}
feed(KEYS[1])
local v = redis.call('HMGET', KEYS[1], 'f', 'u')
if redis.call('DEL', KEYS[1]) == 0 then return 0 end
if v[1] and v[1] ~= '' then redis.call('SREM', ARGV[1] .. 'f:' .. v[1], KEYS[1]) end
if v[2] and v[2] ~= '' then redis.call('SREM', ARGV[1] .. 'u:access_token:' .. v[2], ARGV[2]) end
redis.call('SREM', ARGV[1] .. 'k:access_token', ARGV[2])
return 1
`,
};

/** Cluster: adds entries to the revocation feed (the keys of one slot, `{rv}`). */
export const feedAdd: LuaScript = {
  name: 'feed-add',
  sha1: '3de3fa2b9d993917012ae813668c07b3e0a22770',
  source: `-- KEYS: 1 feed order set, 2 feed expiry set.
-- ARGV: 1 now (ms), then pairs of member (<revokedAt, 15 digits>:<id>) and expiresAt (ms).
${purge('KEYS[1]', 'KEYS[2]', 'ARGV[1]')}
for i = 2, #ARGV - 1, 2 do
  if tonumber(ARGV[i + 1]) > tonumber(ARGV[1]) then
    redis.call('ZADD', KEYS[1], 0, ARGV[i])
    redis.call('ZADD', KEYS[2], ARGV[i + 1], ARGV[i])
  end
end
return 1
`,
};

/** Reads a page of the revocation feed: members after a position, with their expiry. */
export const feedList: LuaScript = {
  name: 'feed-list',
  sha1: '01141a61292c1ea36cefaa6fde728643947f7b70',
  source: `-- KEYS: 1 feed order set, 2 feed expiry set.
-- ARGV: 1 exclusive lower bound ('(' .. member), 2 now (ms), 3 limit.
-- Returns member, expiresAt, member, expiresAt, ... of unexpired entries, in order.
${purge('KEYS[1]', 'KEYS[2]', 'ARGV[2]', 1000)}
local out = {}
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], ARGV[1], '+', 'BYLEX', 'LIMIT', 0, tonumber(ARGV[3]))) do
  local e = redis.call('ZSCORE', KEYS[2], m)
  if e and tonumber(e) > tonumber(ARGV[2]) then
    out[#out + 1] = m
    out[#out + 1] = e
  end
end
return out
`,
};
