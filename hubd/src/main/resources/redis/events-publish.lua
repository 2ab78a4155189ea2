-- Publishes a batch of one hub's events to the cluster's event stream, each with the next
-- cluster-wide sequence (never below Redis's time in microseconds, so sequences keep increasing
-- across a Redis that lost the counter). Node events are checked against presence here, atomically:
--   'on'  (the node's stream is now on this hub): takes the node's presence entry; if another hub
--         held it, first publishes the node offline there ('hub lost' when that hub's lease has run
--         out, else 'replaced by a new connection'), so every subscriber sees offline, then online;
--   'off' (this hub lost the node's stream): dropped when another hub already holds the node;
--   'any' everything else.
-- KEYS[1] sequence, KEYS[2] stream, KEYS[3] presence hubs (zset), KEYS[4] presence node -> hub (hash)
-- ARGV[1] hub id, ARGV[2] stream length kept (approximately), then per event:
--   'on', node id, payload, payload if the previous hub was lost, payload if it was replaced
--   'off', node id, payload      'any', node id or '', payload
-- Returns the last sequence used (0 when nothing was published).
local t = redis.call('TIME')
local nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local floor = tonumber(t[1]) * 1000000 + tonumber(t[2])
local last = 0
local function emit(payload)
  local s = redis.call('INCR', KEYS[1])
  if s < floor then
    s = floor
    redis.call('SET', KEYS[1], s)
  end
  floor = s + 1
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 's', s, 't', nowMs, 'e', payload)
  last = s
end
local i = 3
while i <= #ARGV do
  local op = ARGV[i]
  local node = ARGV[i + 1]
  if op == 'on' then
    local prev = redis.call('HGET', KEYS[4], node)
    redis.call('HSET', KEYS[4], node, ARGV[1])
    if prev and prev ~= ARGV[1] then
      local lease = redis.call('ZSCORE', KEYS[3], prev)
      if lease and tonumber(lease) >= nowMs then
        emit(ARGV[i + 4])
      else
        emit(ARGV[i + 3])
      end
    end
    emit(ARGV[i + 2])
    i = i + 5
  elseif op == 'off' then
    local holder = redis.call('HGET', KEYS[4], node)
    if not holder or holder == ARGV[1] then
      emit(ARGV[i + 2])
    end
    i = i + 3
  else
    emit(ARGV[i + 2])
    i = i + 3
  end
end
return last
