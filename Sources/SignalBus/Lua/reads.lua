-- checkReads(): reads a read set from the arguments (per hash: key, expected existence or '-', the field
-- count, the field names, one character per field, '1' present or '0' absent, then the values of the present
-- fields) and returns nil when it is unchanged, else {'conflict', key, field}.

local function checkReads()
  for _ = 1, tonumber(take()) do
    local key, existence, count = KEYS[tonumber(ARGV[i])], ARGV[i + 1], tonumber(ARGV[i + 2])
    i = i + 3
    if existence ~= '-' and (redis.call('EXISTS', key) == 1) ~= (existence == '1') then
      return {'conflict', key, 'exists'}
    end
    if count > 0 then
      -- The field names come first, so HMGET takes them in one unpack; then which are present and their
      -- values, compared in place: no Lua table is built per read.
      local actual = redis.call('HMGET', key, unpack(ARGV, i, i + count - 1))
      local names = i
      local presence = ARGV[i + count]
      i = i + count + 1
      for n = 1, count do
        if string.byte(presence, n) == 49 then
          if actual[n] ~= ARGV[i] then return {'conflict', key, ARGV[names + n - 1]} end
          i = i + 1
        elseif actual[n] then
          return {'conflict', key, ARGV[names + n - 1]}
        end
      end
    end
  end
  return nil
end
