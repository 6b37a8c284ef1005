-- The one atomic step that finishes messages of a group (after prelude.lua and reads.lua).
--
-- ARGV: group, trace TTL, marker TTL, the number of parts, then each part, preceded by the index just past
-- its arguments (so the rest of a part that stops early is skipped). A part:
--   flags: the sum of 1 (finishes its message), 2 (clears a recorded error), 4 (records a trace entry),
--          8 (indexes a chain's root), 16 (its emissions carry `traced`)
--   stream entry dead deliveries       (flag 1: acknowledges the entry)
--   | marker record                    (no flag 1: a cluster part outside the stream's slot)
--   errorsKey field                    (flag 2: a redelivery's recorded error, cleared)
--   the read set (see checkReads)
--   the writes: their count, then each as an opcode of `writes` below and its arguments
--   the emissions: their count; when there are any, the envelope they share (at_ms, cause, trace, and the
--     same as JSON members), then each as stream, channel ('' when it is the stream's own name), id, the
--     payload's field count and pairs, and the payload as JSON members (no braces)
--   traceKey field entry               (flag 4: a traced delivery's entry in its chain's hash)
--   indexKey score member              (flag 8: a chain's root in its goal's trace index)
-- Answers one result per part: 'ok', 'acknowledged' (the entry was no longer pending for the group: nothing
-- applied), {'duplicate', record}, {'conflict', key, field} or {'failed', reason}.

local group, traceTTL, markerTTL = take(), take(), take()

-- Each write a receiver may ask for, by opcode; each takes its own key(s) and arguments.
local function takeFields()
  local count = tonumber(take())
  local first = i
  i = i + count
  return first, i - 1
end
local writes = {
  -- Several fields at once: a message's end result in a hash it loaded.
  HSET = function()
    local key = takeKey()
    local first, last = takeFields()
    redis.call('HSET', key, unpack(ARGV, first, last))
  end,
  HDEL = function()
    local key = takeKey()
    local first, last = takeFields()
    redis.call('HDEL', key, unpack(ARGV, first, last))
  end,
  HINCRBY = function() redis.call('HINCRBY', takeKey(), take(), take()) end,
  -- The seed's max__field and min__field: set the field when absent or beyond the new value.
  HMAX = function()
    local key, field, raw = takeKey(), take(), take()
    local current = tonumber(redis.call('HGET', key, field))
    if current == nil or tonumber(raw) > current then redis.call('HSET', key, field, raw) end
  end,
  HMIN = function()
    local key, field, raw = takeKey(), take(), take()
    local current = tonumber(redis.call('HGET', key, field))
    if current == nil or tonumber(raw) < current then redis.call('HSET', key, field, raw) end
  end,
  -- Several keys at once: their count, then the keys.
  DEL = function()
    local keys = {}
    for n = 1, tonumber(take()) do keys[n] = takeKey() end
    redis.call('DEL', unpack(keys))
  end,
  SADD = function() redis.call('SADD', takeKey(), take()) end,
  SREM = function() redis.call('SREM', takeKey(), take()) end,
  ZADD = function() redis.call('ZADD', takeKey(), take(), take()) end,
  ZREM = function() redis.call('ZREM', takeKey(), take()) end,
  XADD = function() appendTaken(takeKey()) end,
}

local function applyWrites()
  for _ = 1, tonumber(take()) do
    local op = take()
    local write = writes[op]
    if not write then error('unknown write ' .. tostring(op)) end
    write()
  end
end

-- Each emission: XADD to its stream, the envelope first, and PUBLISH of the same as JSON on its topic's
-- channel; the envelope's names and shared values travel once per part.
local function publishEmissions(traced)
  local count = tonumber(take())
  if count == 0 then return end
  local at, cause, trace, shared = take(), take(), take(), take()
  for _ = 1, count do
    -- Read in place rather than through take(): this runs for every emission.
    local key, channel, id, fields = KEYS[tonumber(ARGV[i])], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3]) * 2
    i = i + 4
    if channel == '' then channel = key end
    -- The bare name: a topic's channel is `signal:<name>` or `task:<name>`.
    local signal = string.sub(channel, string.find(channel, ':', 1, true) + 1)
    if traced then
      redis.call('XADD', key, '*', 'id', id, 'signal', signal, 'at_ms', at, 'cause', cause, 'trace', trace, 'traced', '1',
        unpack(ARGV, i, i + fields - 1))
    else
      redis.call('XADD', key, '*', 'id', id, 'signal', signal, 'at_ms', at, 'cause', cause, 'trace', trace,
        unpack(ARGV, i, i + fields - 1))
    end
    local payload = ARGV[i + fields]
    i = i + fields + 1
    if payload ~= '' then payload = ',' .. payload end
    redis.call('PUBLISH', channel, '{"id":' .. cjson.encode(id) .. ',"signal":' .. cjson.encode(signal) .. ',' .. shared .. payload .. '}')
  end
end

-- A traced delivery's entry in its chain's hash, and a root's place in its goal's index.
local function recordTrace(flags)
  if bit.band(flags, 4) ~= 0 then
    local key, field, entry = takeKey(), take(), take()
    redis.call('HSET', key, field, entry)
    redis.call('EXPIRE', key, traceTTL)
  end
  if bit.band(flags, 8) ~= 0 then
    local key, score, member = takeKey(), take(), take()
    redis.call('ZADD', key, 'NX', score, member)
    redis.call('EXPIRE', key, traceTTL)
  end
end

local function apply(flags)
  applyWrites()
  publishEmissions(bit.band(flags, 16) ~= 0)
  recordTrace(flags)
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
  local flags = tonumber(ARGV[i])
  local stream, entry, dead, deliveries, marker
  if bit.band(flags, 1) ~= 0 then
    stream, entry, dead, deliveries = KEYS[tonumber(ARGV[i + 1])], ARGV[i + 2], KEYS[tonumber(ARGV[i + 3])], ARGV[i + 4]
    i = i + 5
  else
    i = i + 1
    marker = takeKey()
    -- A part outside the stream's slot: a marker that is there means it was applied before.
    local earlier = redis.call('SET', marker, take(), 'NX', 'EX', markerTTL, 'GET')
    if earlier then return {'duplicate', earlier} end
  end
  local errorKey, errorField
  if bit.band(flags, 2) ~= 0 then errorKey, errorField = takeKey(), take() end
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
  local ok, failure = pcall(apply, flags)
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
