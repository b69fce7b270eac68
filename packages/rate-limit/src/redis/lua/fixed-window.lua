-- Fixed window (see src/fixed-window.ts; the same integer arithmetic in microseconds).
-- KEYS[1] hash {w = window index, c = count}; ARGV: window µs, limit, cost.
-- Returns {allowed 0|1, remaining, reset after µs, retry after µs}.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])

local index = math.floor(now / window)
local reset_after = (index + 1) * window - now
local state = redis.call('HMGET', KEYS[1], 'w', 'c')
local count = 0
if tonumber(state[1]) == index then count = tonumber(state[2]) or 0 end

if count + cost > limit then
  return {0, math.max(0, limit - count), reset_after, reset_after}
end
count = count + cost
redis.call('HSET', KEYS[1], 'w', string.format('%.0f', index), 'c', count)
redis.call('PEXPIRE', KEYS[1], math.ceil(reset_after / 1000))
return {1, limit - count, reset_after, 0}
