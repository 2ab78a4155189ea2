-- Appends one output chunk's blocks of lines to a node's history, atomically with the task's sequence.
-- KEYS: 1 lines stream, 2 node meta hash, 3 task progress hash, 4 node's task set, 5 line sizes stream
-- ARGV: 1 sequence, 2 max lines, 3 max bytes, 4 pending stdout, 5 pending stderr, 6 task id,
--       7 block count, then per block: task id, stream, text (lines joined by "\n"), at (unix ms),
--       line count, bytes (UTF-8 bytes of the lines without separators), line sizes (see below, or "")
-- A lines entry is a block; its id is "<offset of its first line>-0", so ranges by offset are exact.
-- meta.first is the exact first offset kept: trimming may cut a block, whose older lines readers skip.
-- A block's line sizes go to the sizes stream under the same id (fields n, b, o): o holds, after each
-- line j, the bytes of lines 1..j, in base 36, each padded to the same width (#o / n). The trim cuts
-- a block with them by a binary search and never reads its text (reading a block of text out of the
-- stream was most of Redis's work under steady output). A block without them (written by an older
-- hub) is read and walked line by line.
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
  local count = tonumber(ARGV[i + 4])
  local b = tonumber(ARGV[i + 5])
  local id = string.format('%d-0', nxt)
  redis.call('XADD', KEYS[1], id, 't', ARGV[i], 's', ARGV[i + 1], 'x', ARGV[i + 2], 'a', ARGV[i + 3],
    'n', count, 'b', b)
  if ARGV[i + 6] ~= '' then
    redis.call('XADD', KEYS[5], id, 'n', count, 'b', b, 'o', ARGV[i + 6])
  end
  nxt = nxt + count
  lines = lines + count
  bytes = bytes + b
  i = i + 7
end
local maxLines = tonumber(ARGV[2])
local maxBytes = tonumber(ARGV[3])

-- A stream entry as (first offset, fields).
local function entry(e)
  local f = {}
  for j = 1, #e[2], 2 do f[e[2][j]] = e[2][j + 1] end
  return tonumber(string.match(e[1], '^(%d+)')), f
end

-- The block that starts at `at`: its sizes if it has them, else its lines entry; nil if none.
local function blockAt(at)
  local id = string.format('%d-0', at)
  local r = redis.call('XRANGE', KEYS[5], id, id)
  if #r == 0 then r = redis.call('XRANGE', KEYS[1], id, id) end
  if #r == 0 then return nil end
  return entry(r[1])
end

-- The block holding `first`: the last entry at or below it (sizes first, they carry no text).
local function blockHolding(off)
  local id = string.format('%d-0', off)
  local r = redis.call('XREVRANGE', KEYS[5], id, '-', 'COUNT', 1)
  if #r > 0 then
    local bf, f = entry(r[1])
    if off < bf + tonumber(f['n']) then return bf, f end
  end
  r = redis.call('XREVRANGE', KEYS[1], id, '-', 'COUNT', 1)
  if #r == 0 then r = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1) end
  if #r == 0 then return nil end
  return blockAt(entry(r[1])) -- by its sizes if it has them after all
end

local keepFrom = first
if lines > maxLines or bytes > maxBytes then
  local blockFirst, f = blockHolding(first)
  while blockFirst and (lines > maxLines or bytes > maxBytes) do
    local count = tonumber(f['n'] or '1')
    local blockBytes = tonumber(f['b'])
    local k = 0
    if first == blockFirst and (lines - count >= maxLines or bytes - blockBytes > maxBytes) then
      -- the whole block goes
      lines = lines - count
      bytes = bytes - blockBytes
      first = blockFirst + count
      k = count
    end
    local o = f['o']
    if k < count and o then
      -- the lines of this block still kept start after `skip`; remove the fewest that meet both caps
      local w = #o / count
      local function upto(j) -- bytes of lines 1..j
        if j == 0 then return 0 end
        return tonumber(string.sub(o, (j - 1) * w + 1, j * w), 36)
      end
      local skip = math.max(0, first - blockFirst)
      local left = count - skip
      local base = upto(skip)
      local take = math.min(left, math.max(0, lines - maxLines))
      if bytes - (upto(skip + take) - base) > maxBytes then
        local lo, hi = take, left -- the smallest take in [lo, hi] within the byte cap
        while lo < hi do
          local mid = math.floor((lo + hi) / 2)
          if bytes - (upto(skip + mid) - base) <= maxBytes then hi = mid else lo = mid + 1 end
        end
        take = lo
      end
      lines = lines - take
      bytes = bytes - (upto(skip + take) - base)
      if take > 0 then first = blockFirst + skip + take end
      k = count
    end
    local text = f['x'] -- a block without sizes: walk its lines
    local pos = 1
    while k < count and (lines > maxLines or bytes > maxBytes) do
      local nl = string.find(text, '\n', pos, true)
      local stop = (k == count - 1 or nl == nil) and (string.len(text) + 1) or nl
      if blockFirst + k >= first then
        lines = lines - 1
        bytes = bytes - (stop - pos)
        first = blockFirst + k + 1
      end
      pos = stop + 1
      k = k + 1
    end
    keepFrom = (first == blockFirst + count) and first or blockFirst
    if lines > maxLines or bytes > maxBytes then
      blockFirst, f = blockAt(blockFirst + count)
    end
  end
  local minId = string.format('%d-0', keepFrom)
  redis.call('XTRIM', KEYS[1], 'MINID', minId)
  redis.call('XTRIM', KEYS[5], 'MINID', minId)
end
redis.call('HSET', KEYS[2], 'first', first, 'next', nxt, 'lines', lines, 'bytes', bytes)
return 'APPENDED'
