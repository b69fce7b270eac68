-- Two-counter sliding window (see src/sliding-window.ts; the same integer arithmetic in µs).
-- KEYS[1] hash {w = window index, c = current count, p = previous count};
-- ARGV: window µs, limit, cost. Returns {allowed 0|1, remaining, reset after µs, retry after µs}.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local capacity = limit * window

local index = math.floor(now / window)
local elapsed = now - index * window
local until_end = window - elapsed
local state = redis.call('HMGET', KEYS[1], 'w', 'c', 'p')
local stored = tonumber(state[1])
local current, previous = 0, 0
if stored == index then
  current = tonumber(state[2]) or 0
  previous = tonumber(state[3]) or 0
elseif stored == index - 1 then
  previous = tonumber(state[2]) or 0
end

local weighted = previous * until_end
if weighted + (current + cost) * window > capacity then
  local remaining = math.max(0, math.floor((capacity - weighted - current * window) / window))
  local retry
  if current + cost <= limit then
    retry = window - math.floor((limit - current - cost) * window / previous) - elapsed
  elseif cost > limit or current == 0 then
    retry = until_end
  else
    retry = until_end + window - math.floor((limit - cost) * window / current)
  end
  return {0, remaining, until_end, retry}
end

current = current + cost
redis.call('HSET', KEYS[1], 'w', string.format('%.0f', index), 'c', current, 'p', previous)
redis.call('PEXPIRE', KEYS[1], math.ceil((until_end + window) / 1000))
return {1, math.floor((capacity - weighted - current * window) / window), until_end, 0}
