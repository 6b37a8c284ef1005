-- The one atomic step that finishes messages of a group (after prelude.lua and reads.lua).
--
-- ARGV: group, trace TTL, marker TTL, the number of parts, then each part, preceded by the index just past
-- its arguments (so the rest of a part that stops early is skipped). A part:
--   '1' stream entry dead deliveries   (finishes its message: acknowledges the entry)
--   | '0' marker record                (a cluster part outside the stream's slot)
--   '1' errorsKey field | '0'          (a redelivery's recorded error, cleared)
--   the read set (see checkReads)
--   the writes: their count, then each as an opcode of `writes` below and its arguments
--   the emissions: their count, then each as stream, channel and a message laid out for announceTaken
--   '1' traceKey field entry | '0'     (a traced delivery's entry in its chain's hash)
--   '1' indexKey score member | '0'    (a chain's root in its goal's trace index)
-- Answers one result per part: 'ok', 'acknowledged' (the entry was no longer pending for the group: nothing
-- applied), {'duplicate', record}, {'conflict', key, field} or {'failed', reason}.

local group, traceTTL, markerTTL = take(), take(), take()

-- Each write a receiver may ask for, by opcode.
local writes = {
  HSET = function(key) redis.call('HSET', key, take(), take()) end,
  HDEL = function(key) redis.call('HDEL', key, take()) end,
  HINCRBY = function(key) redis.call('HINCRBY', key, take(), take()) end,
  -- The seed's max__field and min__field: set the field when absent or beyond the new value.
  HMAX = function(key)
    local field, raw = take(), take()
    local current = tonumber(redis.call('HGET', key, field))
    if current == nil or tonumber(raw) > current then redis.call('HSET', key, field, raw) end
  end,
  HMIN = function(key)
    local field, raw = take(), take()
    local current = tonumber(redis.call('HGET', key, field))
    if current == nil or tonumber(raw) < current then redis.call('HSET', key, field, raw) end
  end,
  DEL = function(key) redis.call('DEL', key) end,
  SADD = function(key) redis.call('SADD', key, take()) end,
  SREM = function(key) redis.call('SREM', key, take()) end,
  ZADD = function(key) redis.call('ZADD', key, take(), take()) end,
  ZREM = function(key) redis.call('ZREM', key, take()) end,
  XADD = function(key) appendTaken(key) end,
}

local function applyWrites()
  for _ = 1, tonumber(take()) do
    local op = take()
    local write = writes[op]
    if not write then error('unknown write ' .. tostring(op)) end
    write(takeKey())
  end
end

-- Each emission: XADD to its stream and PUBLISH on its topic's channel.
local function publishEmissions()
  for _ = 1, tonumber(take()) do
    local key, channel = takeKey(), take()
    announceTaken(key, channel)
  end
end

-- A traced delivery's entry in its chain's hash, and a root's place in its goal's index.
local function recordTrace()
  if take() == '1' then
    local key, field, entry = takeKey(), take(), take()
    redis.call('HSET', key, field, entry)
    redis.call('EXPIRE', key, traceTTL)
  end
  if take() == '1' then
    local key, score, member = takeKey(), take(), take()
    redis.call('ZADD', key, 'NX', score, member)
    redis.call('EXPIRE', key, traceTTL)
  end
end

local function apply()
  applyWrites()
  publishEmissions()
  recordTrace()
end

-- An entry whose write Redis refused: copied to its dead letters with the error (it is already
-- acknowledged, and a refused write fails the same way on every delivery).
local function moveToDead(stream, entry, dead, deliveries, reason)
  local found = redis.call('XRANGE', stream, entry, entry)
  if #found == 0 then return end
  local fields = found[1][2]
  for _, value in ipairs({'dead.group', group, 'dead.entry', entry, 'dead.deliveries', deliveries, 'dead.error', reason}) do
    fields[#fields + 1] = value
  end
  redis.call('XADD', dead, '*', unpack(fields))
end

local function commitPart()
  local stream, entry, dead, deliveries, marker
  if take() == '1' then
    stream, entry, dead, deliveries = takeKey(), take(), takeKey(), take()
  else
    marker = takeKey()
    -- A part outside the stream's slot: a marker that is there means it was applied before.
    local earlier = redis.call('SET', marker, take(), 'NX', 'EX', markerTTL, 'GET')
    if earlier then return {'duplicate', earlier} end
  end
  local errorKey, errorField
  if take() == '1' then errorKey, errorField = takeKey(), take() end
  -- The read set is checked before anything is written, the acknowledgement included.
  local conflict = checkReads()
  if conflict then
    if marker then redis.call('DEL', marker) end
    return conflict
  end
  if errorKey then redis.call('HDEL', errorKey, errorField) end
  -- Acknowledging is the record that the entry was applied: an entry no longer pending applies nothing.
  if stream and redis.call('XACK', stream, group, entry) == 0 then
    return 'acknowledged'
  end
  local ok, failure = pcall(apply)
  if not ok then
    local reason = type(failure) == 'table' and tostring(failure.err) or tostring(failure)
    if stream then moveToDead(stream, entry, dead, deliveries, reason) else redis.call('DEL', marker) end
    return {'failed', reason}
  end
  return 'ok'
end

local results = {}
for _ = 1, tonumber(take()) do
  local finish = tonumber(take())
  results[#results + 1] = commitPart()
  i = finish
end
return results
