-- checkReads(): reads a read set from the arguments (per hash: key, expected existence or '-', the field
-- count, the field names, then each field's presence and value) and returns nil when it is unchanged, else
-- {'conflict', key, field}.

local function checkReads()
  for _ = 1, tonumber(take()) do
    local key, existence, count = takeKey(), take(), tonumber(take())
    if existence ~= '-' and (redis.call('EXISTS', key) == 1) ~= (existence == '1') then
      return {'conflict', key, 'exists'}
    end
    if count > 0 then
      -- The field names come first, so HMGET takes them in one unpack; then each one's presence and
      -- value, compared in place: no Lua table is built per read.
      local actual = redis.call('HMGET', key, unpack(ARGV, i, i + count - 1))
      local names = i
      i = i + count
      for n = 1, count do
        local present, expected = ARGV[i], ARGV[i + 1]
        i = i + 2
        if (present == '1' and actual[n] ~= expected) or (present ~= '1' and actual[n]) then
          return {'conflict', key, ARGV[names + n - 1]}
        end
      end
    end
  end
  return nil
end
