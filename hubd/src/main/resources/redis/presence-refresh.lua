-- One hub's presence, in one round trip per interval: renew its lease, describe it, and apply the
-- node streams it took (+) and lost (-) since the last call. A lost node's entry is deleted only if
-- it still names this hub: the node may already be held by another. Leases are in Redis's own time,
-- so the hubs' clocks do not have to agree.
-- KEYS[1] hubs (zset hub id -> lease expiry ms), KEYS[2] hub info (hash), KEYS[3] node -> hub (hash)
-- ARGV[1] hub id, ARGV[2] lease ms, ARGV[3] hub info, then pairs of op ('+' or '-') and node id.
-- Returns 1 if the hub still had its lease, 0 if it had lost it (a sweeper may have released its nodes).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
local had = score and tonumber(score) >= now
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
for i = 4, #ARGV, 2 do
  if ARGV[i] == '+' then
    redis.call('HSET', KEYS[3], ARGV[i + 1], ARGV[1])
  elseif redis.call('HGET', KEYS[3], ARGV[i + 1]) == ARGV[1] then
    redis.call('HDEL', KEYS[3], ARGV[i + 1])
  end
end
if had then
  return 1
end
return 0
