import type { LuaScript } from './script.js';

/**
 * Refresh-token rotation, or a code exchange, in one step (one Redis, not a cluster): consumes
 * the token or code as `consume` does and stores its successor and an access token of the grant as `set-many` does, checking the
 * family's revocation marker in the same step. The new records are `rotatedRecords` in Lua: the
 * grant's fields are copied from the consumed record's JSON as written (never decoded and
 * re-encoded, so what JSON.parse reads back is exactly what was stored).
 */
export const rotate: LuaScript = {
  name: 'rotate',
  sha1: '764cedebdd5e8c93390b04dae17fd2a9ac411304',
  source: `-- KEYS: 1 the refresh token's record, 2 its successor's record, 3 the access token's record
--       (when ARGV[8] ~= ''), last the client record to check (when ARGV[12] ~= ''). The family's keys (set, marker) and the user sets are named from
--       the record's own fields, under ARGV[1]: the script runs on one Redis, never a cluster.
-- ARGV: 1 key prefix, 2 now (ms), 3 sealed successor or '', 4 clientId the record must carry
--       or '', 5 the grant's end for a record without grantExpiresAt (ms), 6 the successor's own
--       end (now + its TTL, ms), 7 the successor's id, 8 the access token's own end (ms) or ''
--       (none), 9 the access token's id, 10 its extra (JSON) or '', 11 retention (ms), 12 the
--       client's data as the caller read it, or '' (no check), 13 a JSON object of top-level
--       fields the record must hold (as consume's match) or '', 14 the new records' resource
--       (JSON) when the record has none, or '', 15 '1' to carry the record's extra to the new
--       refresh token (a rotation; not a code exchange), 16 the key the record's binding
--       (extra.cnf.jkt) must allow, as JSON (a string, or null: no key), or '' (no check), 17 the
--       new refresh token's extra (JSON) when 15 is not '1', or ''.
-- Returns {-1} (the client is not stored unchanged and unexpired: nothing done), nil (missing,
-- expired, another client's, not matching, bound to another key), {0, data, consumedAt, successor} (already
-- consumed), {2, data, now, ''} (the family is revoked: nothing stored) or {1, data, now,
-- successor} (consumed; the successor and access token stored).
if ARGV[12] and ARGV[12] ~= '' then
  local client = redis.call('HMGET', KEYS[#KEYS], 'd', 'e')
  if client[1] ~= ARGV[12] or (client[2] ~= '' and tonumber(client[2]) <= tonumber(ARGV[2])) then
    return {-1}
  end
end
local v = redis.call('HMGET', KEYS[1], 'd', 'e', 'c', 's', 'f', 'u')
if not v[1] then return false end
if v[2] ~= '' and tonumber(v[2]) <= tonumber(ARGV[2]) then return false end
-- The record's top-level fields as raw JSON text (JSON.stringify output: no whitespace).
local raw = {}
local text = v[1]
-- The index after the closing quote of the JSON string whose text starts at position at: a quote
-- closes it unless an odd run of backslashes escapes it (plain finds: no pattern matching).
local function skipString(at)
  while true do
    local q = string.find(text, '"', at, true)
    local b = q - 1
    while string.byte(text, b) == 92 do b = b - 1 end
    if (q - b) % 2 == 1 then return q + 1 end
    at = q + 1
  end
end
local i = 2
while string.byte(text, i) == 34 do
  local keyEnd = skipString(i + 1)
  local start = keyEnd + 1
  local first = string.byte(text, start)
  local stop -- the ',' or '}' after the value
  if first == 34 then
    stop = skipString(start + 1)
  elseif first == 123 or first == 91 then
    local at, depth = start + 1, 1
    while depth > 0 do
      local p = string.find(text, '["{}%[%]]', at)
      local ch = string.byte(text, p)
      if ch == 34 then
        at = skipString(p + 1)
      else
        if ch == 123 or ch == 91 then depth = depth + 1 else depth = depth - 1 end
        at = p + 1
      end
    end
    stop = at
  else
    stop = string.find(text, '[,}]', start)
  end
  raw[string.sub(text, i + 1, keyEnd - 2)] = string.sub(text, start, stop - 1)
  i = stop + 1
end
if ARGV[4] ~= '' and (raw.clientId == nil or cjson.decode(raw.clientId) ~= ARGV[4]) then
  return false
end
if ARGV[13] ~= '' then
  local record = cjson.decode(v[1])
  for key, value in pairs(cjson.decode(ARGV[13])) do
    if record[key] ~= value then return false end
  end
end
if ARGV[16] ~= '' and raw.extra ~= nil then
  local extra = cjson.decode(raw.extra)
  local cnf = type(extra) == 'table' and extra.cnf or nil
  local jkt = type(cnf) == 'table' and cnf.jkt or nil
  if type(jkt) == 'string' and jkt ~= cjson.decode(ARGV[16]) then return false end
end
local resource = raw.resource
if resource == nil or resource == 'null' then
  resource = nil
  if ARGV[14] ~= '' then resource = ARGV[14] end
end
if v[3] then return {0, v[1], v[3], v[4] or ''} end
if redis.call('EXISTS', ARGV[1] .. 'x:' .. v[5]) == 1 then return {2, v[1], ARGV[2], ''} end
if ARGV[3] ~= '' then
  redis.call('HSET', KEYS[1], 'c', ARGV[2], 's', ARGV[3])
else
  redis.call('HSET', KEYS[1], 'c', ARGV[2])
end
local grantEnd = raw.grantExpiresAt
if grantEnd == nil or grantEnd == 'null' then grantEnd = ARGV[5] end
-- An index set lives as long as its longest-lived member.
local function index(set, member, ttl)
  local current = redis.call('PTTL', set)
  local existed = current ~= -2 -- PTTL: -2 when the key does not exist
  redis.call('SADD', set, member)
  if not existed or (current >= 0 and current < ttl) then
    redis.call('PEXPIRE', set, string.format('%d', ttl))
  end
end
local function field(name, value)
  if value == nil then return '' end
  return ',"' .. name .. '":' .. value
end
local grant = '{"familyId":' .. raw.familyId .. field('grantExpiresAt', grantEnd)
  .. field('clientId', raw.clientId) .. field('userId', raw.userId) .. field('scopes', raw.scopes)
  .. field('resource', resource)
local function store(key, kind, id, ownEnd, extra)
  local ends = ownEnd
  if tonumber(grantEnd) < tonumber(ownEnd) then ends = grantEnd end
  local ttl = math.max(1, tonumber(ends) - tonumber(ARGV[2])) + tonumber(ARGV[11])
  local data = grant .. field('extra', extra) .. ',"createdAt":' .. ARGV[2] .. ',"expiresAt":' .. ends .. '}'
  redis.call('DEL', key)
  redis.call('HSET', key, 'd', data, 'e', ends, 'f', v[5], 'u', v[6])
  redis.call('PEXPIRE', key, string.format('%d', ttl))
  index(ARGV[1] .. 'f:' .. v[5], key, ttl)
  if v[6] ~= '' then index(ARGV[1] .. 'u:' .. kind .. ':' .. v[6], id, ttl) end
end
local carried = nil
if ARGV[15] == '1' then carried = raw.extra elseif ARGV[17] ~= '' then carried = ARGV[17] end
store(KEYS[2], 'refresh_token', ARGV[7], ARGV[6], carried)
if ARGV[8] ~= '' then
  local extra = nil
  if ARGV[10] ~= '' then extra = ARGV[10] end
  store(KEYS[3], 'access_token', ARGV[9], ARGV[8], extra)
end
return {1, v[1], ARGV[2], ARGV[3]}
`,
};
