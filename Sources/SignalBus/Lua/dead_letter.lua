-- Moves entry ARGV[2], pending for group ARGV[1] on stream KEYS[1], to the dead letters KEYS[2] with its
-- fields and dead.group, dead.entry, dead.deliveries (ARGV[3]) and dead.error: its last error recorded in the
-- hash KEYS[3] (field '<stream> <entry>', removed), else ARGV[4]; then acknowledges it. Answers
-- {error, fields}; the fields are empty when the entry is no longer on the stream.
local stream, dead, errors = KEYS[1], KEYS[2], KEYS[3]
local group, entry, deliveries, fallback = ARGV[1], ARGV[2], ARGV[3], ARGV[4]

local field = stream .. ' ' .. entry
local reason = redis.call('HGET', errors, field) or fallback
local found = redis.call('XRANGE', stream, entry, entry)
local fields = {}
if #found > 0 then
  fields = found[1][2]
  local args = {'XADD', dead, '*'}
  for _, value in ipairs(fields) do args[#args + 1] = value end
  for _, value in ipairs({'dead.group', group, 'dead.entry', entry, 'dead.deliveries', deliveries, 'dead.error', reason}) do
    args[#args + 1] = value
  end
  redis.call(unpack(args))
end
redis.call('HDEL', errors, field)
redis.call('XACK', stream, group, entry)
return {reason, fields}
