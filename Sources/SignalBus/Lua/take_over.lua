-- Takes over a stopped consumer: claims every entry pending with consumer ARGV[2] of group ARGV[1] on
-- stream KEYS[1] for consumer ARGV[3], then deletes ARGV[2] from the group, atomically, so no entry read in
-- between is lost with it. Answers the entries and their delivery counts before the claim, alternating.
local stream, group, stopped, me = KEYS[1], ARGV[1], ARGV[2], ARGV[3]

local function pendingWith(consumer)
  return redis.call('XPENDING', stream, group, '-', '+', 500, consumer)
end

-- An entry deleted from the stream cannot be claimed: it leaves the stopped consumer's list here.
local function dropUnclaimable(ids, found)
  for _, id in ipairs(ids) do
    if not found[id] and redis.call('XPENDING', stream, group, id, id, 1, stopped)[1] then
      redis.call('XACK', stream, group, id)
    end
  end
end

local taken = {}
while true do
  local pending = pendingWith(stopped)
  if #pending == 0 then break end
  local ids, counts, found = {}, {}, {}
  for _, entry in ipairs(pending) do
    ids[#ids + 1] = entry[1]
    counts[entry[1]] = entry[4]
  end
  for _, entry in ipairs(redis.call('XCLAIM', stream, group, me, 0, unpack(ids))) do
    if type(entry) == 'table' then
      found[entry[1]] = true
      taken[#taken + 1] = entry
      taken[#taken + 1] = counts[entry[1]]
    end
  end
  dropUnclaimable(ids, found)
end
redis.call('XGROUP', 'DELCONSUMER', stream, group, stopped)
return taken
