-- Publishes messages from outside a receiver (after prelude.lua). ARGV: the dedup keys' TTL, the number of
-- messages, then each: '1' dedupKey | '0', '1' traceFlagHash | '0', stream, channel, the message laid out
-- for announceTaken. A message whose dedup key exists is a retry and is skipped; one whose trace flag hash
-- has trace = 1 is published with `traced` = 1. Answers 1 (stored) or 0 (a retry) per message.

local ttl = take()
local stored = {}
-- A root whose goal asks for tracing: `traced` goes in front of its fields and its JSON.
local function announceTraced(key, channel)
  local count = tonumber(take()) * 2
  redis.call('XADD', key, '*', 'traced', '1', unpack(ARGV, i, i + count - 1))
  i = i + count
  redis.call('PUBLISH', channel, '{"traced":"1",' .. string.sub(take(), 2))
end
for n = 1, tonumber(take()) do
  local fresh = true
  if take() == '1' then
    fresh = redis.call('SET', takeKey(), '1', 'NX', 'EX', ttl) ~= false
  end
  local flagged = take() == '1' and redis.call('HGET', take(), 'trace') == '1'
  local key, channel = takeKey(), take()
  if fresh and flagged then
    announceTraced(key, channel)
    stored[n] = 1
  elseif fresh then
    announceTaken(key, channel)
    stored[n] = 1
  else
    skipTaken()
    stored[n] = 0
  end
end
return stored
