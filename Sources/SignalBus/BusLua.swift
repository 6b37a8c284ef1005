import Redis

/// Lua shared by the bus's scripts (and the domain's), prepended to each one.
public enum BusLua {
    /// Defines:
    /// - `take()` / `takeKey()`: the next `ARGV` value, or the `KEYS` entry whose 1-based index is the next value;
    /// - `takeFields()`: a field count, then that many field/value pairs from `ARGV`, as a flat array;
    /// - `announce(key, channel, maxlen, fields)`: one `XADD` of `fields` to stream `key` (`MAXLEN ~ maxlen`
    ///   unless `maxlen` is `nil`) and one `PUBLISH` of the same fields as a JSON object on `channel` (the
    ///   topic's own name, also for a partition's stream, so one subscription sees every partition).
    public static let prelude = #"""
        local i = 1
        local function take() local v = ARGV[i]; i = i + 1; return v end
        local function takeKey() local v = KEYS[tonumber(ARGV[i])]; i = i + 1; return v end
        local function takeFields()
          local fields = {}
          for _ = 1, tonumber(take()) * 2 do fields[#fields + 1] = take() end
          return fields
        end
        local function announce(key, channel, maxlen, fields)
          local args, message = {'XADD', key}, {}
          if maxlen then
            args[3], args[4], args[5] = 'MAXLEN', '~', maxlen
          end
          args[#args + 1] = '*'
          for n = 1, #fields, 2 do
            args[#args + 1] = fields[n]
            args[#args + 1] = fields[n + 1]
            message[fields[n]] = fields[n + 1]
          end
          redis.call(unpack(args))
          redis.call('PUBLISH', channel, cjson.encode(message))
        end

        """#

    /// A script whose source is the prelude followed by `body`.
    public static func script(_ body: String) -> RedisScript {
        RedisScript(prelude + body)
    }
}
