-- Releases the nodes of every hub whose lease ran out (Redis's time), atomically: when several hubs
-- sweep at once, each lost node is returned to exactly one of them.
-- KEYS[1] hubs (zset), KEYS[2] hub info (hash), KEYS[3] node -> hub (hash)
-- Returns the dead hub ids, then '', then alternately node id and the dead hub that held it.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. now)
if #dead == 0 then
  return {}
end
local isDead = {}
for _, h in ipairs(dead) do
  isDead[h] = true
end
local out = {}
for _, h in ipairs(dead) do
  out[#out + 1] = h
end
out[#out + 1] = ''
local cursor = '0'
repeat
  local page = redis.call('HSCAN', KEYS[3], cursor, 'COUNT', 1000)
  cursor = page[1]
  local kv = page[2]
  for i = 1, #kv, 2 do
    if isDead[kv[i + 1]] then
      redis.call('HDEL', KEYS[3], kv[i])
      out[#out + 1] = kv[i]
      out[#out + 1] = kv[i + 1]
    end
  end
until cursor == '0'
for _, h in ipairs(dead) do
  redis.call('ZREM', KEYS[1], h)
  redis.call('HDEL', KEYS[2], h)
end
return out
