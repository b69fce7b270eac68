-- Two-counter sliding window (see src/sliding-window.ts; the same integer arithmetic in µs), for
-- a batch of decisions taken at one instant: KEYS[i] hash {w = window index, c = current count,
-- p = previous count}; ARGV: window µs, limit, then the cost of each key. Returns, for each key
-- in order, allowed 0|1, remaining, reset after µs, retry after µs (4 numbers per key).
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local capacity = limit * window

local index = math.floor(now / window)
local elapsed = now - index * window
local until_end = window - elapsed
local ttl = math.ceil((until_end + window) / 1000)
local stored_index = string.format('%.0f', index)
local out = {}
for i = 1, #KEYS do
  local cost = tonumber(ARGV[i + 2])
  local state = redis.call('HMGET', KEYS[i], 'w', 'c', 'p')
  local stored = tonumber(state[1])
  local current, previous = 0, 0
  if stored == index then
    current = tonumber(state[2]) or 0
    previous = tonumber(state[3]) or 0
  elseif stored == index - 1 then
    previous = tonumber(state[2]) or 0
  end

  local weighted = previous * until_end
  local at = i * 4 - 3
  if weighted + (current + cost) * window > capacity then
    local retry
    if current + cost <= limit then
      retry = window - math.floor((limit - current - cost) * window / previous) - elapsed
    elseif cost > limit or current == 0 then
      retry = until_end
    else
      retry = until_end + window - math.floor((limit - cost) * window / current)
    end
    out[at], out[at + 1], out[at + 2], out[at + 3] =
      0, math.max(0, math.floor((capacity - weighted - current * window) / window)), until_end, retry
  else
    current = current + cost
    redis.call('HSET', KEYS[i], 'w', stored_index, 'c', current, 'p', previous)
    redis.call('PEXPIRE', KEYS[i], ttl)
    out[at], out[at + 1], out[at + 2], out[at + 3] =
      1, math.floor((capacity - weighted - current * window) / window), until_end, 0
  end
end
return out
