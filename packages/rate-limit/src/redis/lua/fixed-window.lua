-- Fixed window (see src/fixed-window.ts; the same integer arithmetic in microseconds), for a
-- batch of decisions taken at one instant: KEYS[i] hash {w = window index, c = count};
-- ARGV: window µs, limit, then the cost of each key. Returns, for each key in order,
-- allowed 0|1, remaining, reset after µs, retry after µs (4 numbers per key).
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])

local index = math.floor(now / window)
local reset_after = (index + 1) * window - now
local ttl = math.ceil(reset_after / 1000)
local stored_index = string.format('%.0f', index)
local out = {}
for i = 1, #KEYS do
  local cost = tonumber(ARGV[i + 2])
  local state = redis.call('HMGET', KEYS[i], 'w', 'c')
  local count = 0
  if tonumber(state[1]) == index then count = tonumber(state[2]) or 0 end
  local at = i * 4 - 3
  if count + cost > limit then
    out[at], out[at + 1], out[at + 2], out[at + 3] = 0, math.max(0, limit - count), reset_after, reset_after
  else
    count = count + cost
    redis.call('HSET', KEYS[i], 'w', stored_index, 'c', count)
    redis.call('PEXPIRE', KEYS[i], ttl)
    out[at], out[at + 1], out[at + 2], out[at + 3] = 1, limit - count, reset_after, 0
  end
end
return out
