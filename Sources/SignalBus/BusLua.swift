import Redis

/// Lua shared by the bus's scripts (and the domain's), prepended to each one.
public enum BusLua {
    /// Defines:
    /// - `take()` / `takeKey()`: the next `ARGV` value, or the `KEYS` entry whose 1-based index is the next value;
    /// - `announce(key, channel, maxlen, fields)`: one `XADD` of `fields` to stream `key` (`MAXLEN ~ maxlen`
    ///   unless `maxlen` is `nil`) and one `PUBLISH` of the same fields as a JSON object on `channel` (the
    ///   topic's own name, also for a partition's stream, so one subscription sees every partition);
    /// - `announceTaken(key, channel, maxlen)`: the same, always trimmed, for a message whose fields and JSON
    ///   come next in `ARGV` (a field count, the field/value pairs, then the JSON text, as
    ///   ``appendMessage(_:to:)`` lays them out): the fields go to `XADD` in one `unpack`, with no Lua table
    ///   and no JSON encoding per message.
    public static let prelude = #"""
        local i = 1
        local function take() local v = ARGV[i]; i = i + 1; return v end
        local function takeKey() local v = KEYS[tonumber(ARGV[i])]; i = i + 1; return v end
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
        local function announceTaken(key, channel, maxlen)
          local count = tonumber(take()) * 2
          local last = i + count - 1
          redis.call('XADD', key, 'MAXLEN', '~', maxlen, '*', unpack(ARGV, i, last))
          i = last + 1
          redis.call('PUBLISH', channel, take())
        end

        """#

    /// Appends a message's stream fields (`fields`: field/value pairs) as ``prelude``'s `announceTaken` reads
    /// them: their count, the pairs, then the same fields as one JSON object, the text published.
    static func appendMessage(_ fields: [(String, String)], to arguments: inout RedisArguments) {
        arguments.append(fields.count)
        var json: [UInt8] = [UInt8(ascii: "{")]
        json.reserveCapacity(fields.reduce(16) { $0 + $1.0.utf8.count + $1.1.utf8.count + 6 })
        for (index, (field, value)) in fields.enumerated() {
            arguments.append(field)
            arguments.append(value)
            if index > 0 { json.append(UInt8(ascii: ",")) }
            JSONText.appendQuoted(field, to: &json)
            json.append(UInt8(ascii: ":"))
            JSONText.appendQuoted(value, to: &json)
        }
        json.append(UInt8(ascii: "}"))
        arguments.append(json)
    }

    /// A script whose source is the prelude followed by `body`.
    public static func script(_ body: String) -> RedisScript {
        RedisScript(prelude + body)
    }
}
