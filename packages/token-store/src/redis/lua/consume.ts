import type { LuaScript } from './script.js';

/** Atomic single-use consume (HMGET + HSET c, and the successor, in one script). */
export const consume: LuaScript = {
  name: 'consume',
  sha1: 'e480ae9e8ad5c32811862a7570cac7d3cb3f2d5c',
  source: `-- Marks a record consumed unless it already was: the check and the write are one step, so of
-- any number of concurrent callers exactly one gets {1, ...}.
-- KEYS: 1 record, 2 the client record to check (with ARGV[5]).  ARGV: 1 now (ms), 2 successor
-- to store with it, or '', 3 the clientId the record must carry, or '' (any), 4 a JSON object of
-- top-level fields the record must hold exactly (string values), or '' (none), 5 the client's
-- data as the caller read it, or '' / absent (no check), 6 the key the record's binding
-- (extra.cnf.jkt) must allow, as JSON (a string, or null: no key), or '' / absent (no check).
-- Returns {-1} (the client is not stored unchanged and unexpired: nothing done), nil (missing,
-- expired, another client's, not matching, or bound to another key), {1, data, now, successor} (consumed),
-- {0, data, consumedAt, successor} (already).
if ARGV[5] and ARGV[5] ~= '' then
  local client = redis.call('HMGET', KEYS[2], 'd', 'e')
  if client[1] ~= ARGV[5] or (client[2] ~= '' and tonumber(client[2]) <= tonumber(ARGV[1])) then
    return {-1}
  end
end
local v = redis.call('HMGET', KEYS[1], 'd', 'e', 'c', 's')
if not v[1] then return false end
if v[2] ~= '' and tonumber(v[2]) <= tonumber(ARGV[1]) then return false end
local bindingCheck = ARGV[6] ~= nil and ARGV[6] ~= ''
if ARGV[3] ~= '' or ARGV[4] ~= '' or bindingCheck then
  local record = cjson.decode(v[1])
  if bindingCheck then
    local extra = record.extra
    local cnf = type(extra) == 'table' and extra.cnf or nil
    local jkt = type(cnf) == 'table' and cnf.jkt or nil
    if type(jkt) == 'string' and jkt ~= cjson.decode(ARGV[6]) then return false end
  end
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
