-- Replays dead letters (after prelude.lua). KEYS: dead:<stream>, the stream. ARGV: one entry id or '' for
-- all, the topic's channel. Each dead letter goes back onto its stream with its original fields and
-- `replay.group` naming the group that dead-lettered it, and is deleted from the dead letters in the same
-- step. Answers how many were replayed.

local entries
if ARGV[1] == '' then
  entries = redis.call('XRANGE', KEYS[1], '-', '+')
else
  entries = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
end
for _, entry in ipairs(entries) do
  local original, group = {}, nil
  for n = 1, #entry[2], 2 do
    local field = entry[2][n]
    if field == 'dead.group' then
      group = entry[2][n + 1]
    elseif string.sub(field, 1, 5) ~= 'dead.' and field ~= 'replay.group' then
      original[#original + 1] = field
      original[#original + 1] = entry[2][n + 1]
    end
  end
  if group then
    original[#original + 1] = 'replay.group'
    original[#original + 1] = group
  end
  announce(KEYS[2], ARGV[2], original)
  redis.call('XDEL', KEYS[1], entry[1])
end
return #entries
