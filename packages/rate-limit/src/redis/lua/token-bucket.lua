-- Token bucket as GCRA (see src/token-bucket.ts; the same integer arithmetic in microseconds).
-- KEYS[1] string: the theoretical arrival time (µs); ARGV: emission interval µs, burst, cost.
-- Returns {allowed 0|1, remaining, reset after µs, retry after µs}.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local tolerance = burst * interval

local tat = tonumber(redis.call('GET', KEYS[1])) or 0
if tat < now then tat = now end
local next_tat = tat + cost * interval
local allow_at = next_tat - tolerance

if allow_at > now then
  return {0, math.max(0, math.floor((now - tat + tolerance) / interval)), tat - now, allow_at - now}
end
redis.call('SET', KEYS[1], string.format('%.0f', next_tat), 'PX', math.ceil((next_tat - now) / 1000))
return {1, math.floor((now - allow_at) / interval), next_tat - now, 0}
