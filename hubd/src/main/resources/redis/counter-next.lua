-- The next value of a counter several hubs share, never at or below ARGV[1] (the highest value the
-- caller has seen stored): a Redis that lost the counter does not hand out used values again.
-- KEYS[1] the counter. Returns the value taken.
local v = redis.call('INCR', KEYS[1])
local floor = tonumber(ARGV[1])
if v <= floor then
  v = floor + 1
  redis.call('SET', KEYS[1], v)
end
return v
