-- Where nodes are held, in one round trip: for each node id in ARGV, the hub holding it if that hub's
-- lease runs now (Redis's time), else ''. With no ARGV: the live hubs, as id and info pairs.
-- KEYS[1] hubs (zset), KEYS[2] hub info (hash), KEYS[3] node -> hub (hash)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local live = {}
for _, h in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], now, '+inf')) do
  live[h] = true
end
local out = {}
if #ARGV == 0 then
  for h, _ in pairs(live) do
    out[#out + 1] = h
    out[#out + 1] = redis.call('HGET', KEYS[2], h) or ''
  end
  return out
end
for from = 1, #ARGV, 1000 do
  local to = math.min(#ARGV, from + 999)
  local where = redis.call('HMGET', KEYS[3], unpack(ARGV, from, to))
  for i = from, to do
    local h = where[i - from + 1]
    if h and live[h] then
      out[i] = h
    else
      out[i] = ''
    end
  end
end
return out
