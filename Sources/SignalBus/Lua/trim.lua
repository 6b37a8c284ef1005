-- Trims KEYS[1], keeping ARGV[1] entries beyond the oldest one some consumer group has not acknowledged,
-- with ARGV[2] the id below which at least ARGV[1] newer entries are known to lie ('' when none is known).
-- Answers {entries-added, last-generated-id, entries trimmed}.

local stream, keep, boundary = KEYS[1], tonumber(ARGV[1]), ARGV[2]
if redis.call('EXISTS', stream) == 0 then return {0, '', 0} end
local function field(list, name)
  for n = 1, #list, 2 do
    if list[n] == name then return list[n + 1] end
  end
end
local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local function below(a, b)
  local am, as = parse(a)
  local bm, bs = parse(b)
  return am < bm or (am == bm and as < bs)
end
local info = redis.call('XINFO', 'STREAM', stream)
local added, last = field(info, 'entries-added'), field(info, 'last-generated-id')
-- The lowest id some group has not acknowledged: its oldest pending entry, else what it read last.
local floor
for _, group in ipairs(redis.call('XINFO', 'GROUPS', stream)) do
  local oldest = field(group, 'last-delivered-id')
  if field(group, 'pending') > 0 then
    oldest = redis.call('XPENDING', stream, field(group, 'name'))[2]
  end
  if not floor or below(oldest, floor) then floor = oldest end
end
local before = redis.call('XLEN', stream)
if not floor or not below(floor, last) then
  -- Every group has acknowledged everything (or none reads it): the newest `keep` stay.
  redis.call('XTRIM', stream, 'MAXLEN', '~', keep)
elseif boundary ~= '' then
  local cut = floor
  if below(boundary, cut) then cut = boundary end
  redis.call('XTRIM', stream, 'MINID', '~', cut)
end
return {added, last, before - redis.call('XLEN', stream)}
