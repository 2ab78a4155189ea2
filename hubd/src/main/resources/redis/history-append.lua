-- Appends one output chunk's lines to a node's history, atomically with the task's sequence.
-- KEYS: 1 lines stream, 2 node meta hash, 3 task progress hash, 4 node's task set
-- ARGV: 1 sequence, 2 max lines, 3 max bytes, 4 pending stdout, 5 pending stderr, 6 task id,
--       7 line count, then per line: task id, stream, text, at (unix ms)
-- Stream entry ids are "<offset>-0", so offsets are the ids and ranges by offset are exact.
local last = tonumber(redis.call('HGET', KEYS[3], 'seq') or '0')
local seq = tonumber(ARGV[1])
if seq <= last then return 'DUPLICATE' end
if seq ~= last + 1 then return 'OUT_OF_ORDER' end
redis.call('HSET', KEYS[3], 'seq', ARGV[1], 'out', ARGV[4], 'err', ARGV[5])
redis.call('SADD', KEYS[4], ARGV[6])
local n = tonumber(ARGV[7])
if n == 0 then return 'APPENDED' end
local first = tonumber(redis.call('HGET', KEYS[2], 'first') or '1')
local nxt = tonumber(redis.call('HGET', KEYS[2], 'next') or '1')
local lines = tonumber(redis.call('HGET', KEYS[2], 'lines') or '0')
local bytes = tonumber(redis.call('HGET', KEYS[2], 'bytes') or '0')
local i = 8
for _ = 1, n do
  local b = string.len(ARGV[i + 2])
  redis.call('XADD', KEYS[1], string.format('%d-0', nxt), 't', ARGV[i], 's', ARGV[i + 1], 'x', ARGV[i + 2],
    'b', b, 'a', ARGV[i + 3])
  nxt = nxt + 1
  lines = lines + 1
  bytes = bytes + b
  i = i + 4
end
local maxLines = tonumber(ARGV[2])
local maxBytes = tonumber(ARGV[3])
while lines > maxLines or bytes > maxBytes do
  local batch = redis.call('XRANGE', KEYS[1], string.format('%d-0', first), '+', 'COUNT', 256)
  if #batch == 0 then break end
  for _, e in ipairs(batch) do
    if lines <= maxLines and bytes <= maxBytes then break end
    local f = e[2]
    for j = 1, #f, 2 do
      if f[j] == 'b' then bytes = bytes - tonumber(f[j + 1]) end
    end
    lines = lines - 1
    first = tonumber(string.match(e[1], '^(%d+)')) + 1
  end
end
redis.call('XTRIM', KEYS[1], 'MINID', string.format('%d-0', first))
redis.call('HSET', KEYS[2], 'first', first, 'next', nxt, 'lines', lines, 'bytes', bytes)
return 'APPENDED'
