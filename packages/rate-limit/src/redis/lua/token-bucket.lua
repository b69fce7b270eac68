-- Token bucket as GCRA (see src/token-bucket.ts; the same integer arithmetic in microseconds),
-- for a batch of decisions taken at one instant: KEYS[i] string, the theoretical arrival time
-- (µs); ARGV: emission interval µs, burst, then the cost of each key. Returns, for each key in
-- order, allowed 0|1, remaining, reset after µs, retry after µs (4 numbers per key).
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tolerance = burst * interval
local out = {}
for i = 1, #KEYS do
  local cost = tonumber(ARGV[i + 2])
  local tat = tonumber(redis.call('GET', KEYS[i])) or 0
  if tat < now then tat = now end
  local next_tat = tat + cost * interval
  local allow_at = next_tat - tolerance
  local at = i * 4 - 3
  if allow_at > now then
    out[at], out[at + 1], out[at + 2], out[at + 3] =
      0, math.max(0, math.floor((now - tat + tolerance) / interval)), tat - now, allow_at - now
  else
    redis.call('SET', KEYS[i], string.format('%.0f', next_tat), 'PX', math.ceil((next_tat - now) / 1000))
    out[at], out[at + 1], out[at + 2], out[at + 3] =
      1, math.floor((now - allow_at) / interval), next_tat - now, 0
  end
end
return out
