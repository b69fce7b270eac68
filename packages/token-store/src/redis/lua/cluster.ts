import type { LuaScript } from './script.js';

// Redis Cluster variants: each script touches the keys of one hash slot only. A family's set and
// its revocation marker share the tag `{f:<familyId>}`; a record and each index set are alone in
// their slots, so the adapter writes them in separate steps and every read of a family's record
// checks the marker (see redis-adapter.ts).

/**
 * Admits a record into its family unless the family is revoked: adds the record key to the
 * family set and extends the set's lifetime, in one step with the marker check.
 */
export const clusterAdmit: LuaScript = {
  name: 'cluster-admit',
  sha1: '25aee3d640aa58d13b36d26dc10f47c2ee0d607d',
  source: `-- KEYS: 1 family set, 2 family revocation marker (same hash tag).
-- ARGV: 1 record key, 2 physical TTL ms or '' (none).
-- Returns 1 (admitted) or 0 (the family is revoked).
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local ttl = tonumber(ARGV[2])
local current = redis.call('PTTL', KEYS[1])
local existed = current ~= -2 -- PTTL: -2 when the key does not exist
redis.call('SADD', KEYS[1], ARGV[1])
if not ttl then
  redis.call('PERSIST', KEYS[1])
elseif not existed or (current >= 0 and current < ttl) then
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return 1
`,
};

/** Adds one member to an index set, which lives as long as its longest-lived member. */
export const clusterIndex: LuaScript = {
  name: 'cluster-index',
  sha1: '5c877735827120f54d2003c94e47dab47c30cf54',
  source: `-- KEYS: 1 index set.  ARGV: 1 member, 2 physical TTL ms or '' (none).
local ttl = tonumber(ARGV[2])
local current = redis.call('PTTL', KEYS[1])
local existed = current ~= -2 -- PTTL: -2 when the key does not exist
redis.call('SADD', KEYS[1], ARGV[1])
if not ttl then
  redis.call('PERSIST', KEYS[1])
elseif not existed or (current >= 0 and current < ttl) then
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return 1
`,
};

/** Stores one record as a hash, replacing what was there, in one step. */
export const clusterWrite: LuaScript = {
  name: 'cluster-write',
  sha1: '40fa41c7cdd897dbfbca2af7bb804b77d787c719',
  source: `-- KEYS: 1 record.  ARGV: 1 data (JSON), 2 expiresAt ms or '', 3 consumedAt ms or '',
-- 4 familyId or '', 5 userId or '', 6 physical TTL ms or '' (none).
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'd', ARGV[1], 'e', ARGV[2], 'f', ARGV[4], 'u', ARGV[5])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'c', ARGV[3]) end
local ttl = tonumber(ARGV[6])
if ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1
`,
};

/**
 * Sets a family's revocation marker and takes its set: returns the record keys that were in it,
 * for the adapter to delete (they live in other slots).
 */
export const clusterRevoke: LuaScript = {
  name: 'cluster-revoke',
  sha1: 'ed84ed4bedfde1b09f3fb356c5c89d09e5f1654b',
  source: `-- KEYS: 1 family set, 2 revocation marker (same hash tag).
-- ARGV: 1 revokedAt (ms), 2 minimum retention (ms).  Returns the family's record keys.
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
local members = redis.call('SMEMBERS', KEYS[1])
redis.call('DEL', KEYS[1])
return members
`,
};
