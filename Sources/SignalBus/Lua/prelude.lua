-- Shared by every script of the bus, prepended to each.
--
-- take() / takeKey(): the next ARGV value, or the KEYS entry whose 1-based index is the next value.
-- announce(key, channel, fields): one XADD of `fields` to stream `key` and one PUBLISH of the same fields as
--   a JSON object on `channel` (the topic's own name, also for a partition's stream, so one subscription
--   sees every partition).
-- appendTaken(key): one XADD of the fields next in ARGV (a field count, then the pairs), in one unpack.
-- announceTaken(key, channel): the same for a message laid out with its JSON text after its fields, then
--   the PUBLISH of that text: no JSON encoding in Redis. skipTaken() steps over such a message.
-- No XADD caps its stream: streams are trimmed only below what every group on them has acknowledged.

-- KEYS and ARGV are read through locals: a global is a table lookup on every use.
local KEYS, ARGV = KEYS, ARGV
local i = 1
local function take() local v = ARGV[i]; i = i + 1; return v end
local function takeKey() local v = KEYS[tonumber(ARGV[i])]; i = i + 1; return v end
local function announce(key, channel, fields)
  local args, message = {'XADD', key, '*'}, {}
  for n = 1, #fields, 2 do
    args[#args + 1] = fields[n]
    args[#args + 1] = fields[n + 1]
    message[fields[n]] = fields[n + 1]
  end
  redis.call(unpack(args))
  redis.call('PUBLISH', channel, cjson.encode(message))
end
local function appendTaken(key)
  -- The count is taken on a line of its own: in `i + take()`, a function reads the upvalue `i` before
  -- take() moves it.
  local count = tonumber(take()) * 2
  redis.call('XADD', key, '*', unpack(ARGV, i, i + count - 1))
  i = i + count
end
local function announceTaken(key, channel)
  appendTaken(key)
  redis.call('PUBLISH', channel, take())
end
local function skipTaken()
  local count = tonumber(take()) * 2
  i = i + count + 1
end
