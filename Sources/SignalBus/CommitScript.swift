import Redis

/// The one atomic step that finishes a message in a group: check it was not handled before, check the
/// state it read is unchanged, apply its writes, publish its emissions (stream + pub/sub), record its trace,
/// remember its id and acknowledge it.
enum CommitScript {
    /// The outcome of a commit.
    enum Result: Equatable {
        case committed
        case duplicate
        case conflict(key: String, field: String)
    }

    static let script = BusLua.script(#"""
        local done, stream = KEYS[1], KEYS[2]
        local group, entry, ttl, maxlen = take(), take(), take(), take()
        if redis.call('EXISTS', done) == 1 then
          redis.call('XACK', stream, group, entry)
          return {'duplicate'}
        end
        for _ = 1, tonumber(take()) do
          local key, existence, count = takeKey(), take(), tonumber(take())
          if existence ~= '-' and (redis.call('EXISTS', key) == 1) ~= (existence == '1') then
            return {'conflict', key, 'exists'}
          end
          if count > 0 then
            local fields, present, expected = {}, {}, {}
            for n = 1, count do fields[n], present[n], expected[n] = take(), take(), take() end
            local actual = redis.call('HMGET', key, unpack(fields))
            for n = 1, count do
              if present[n] == '1' then
                if actual[n] ~= expected[n] then return {'conflict', key, fields[n]} end
              elseif actual[n] then
                return {'conflict', key, fields[n]}
              end
            end
          end
        end
        for _ = 1, tonumber(take()) do
          local op, key = take(), takeKey()
          if op == 'HSET' then redis.call('HSET', key, take(), take())
          elseif op == 'HDEL' then redis.call('HDEL', key, take())
          elseif op == 'HINCRBY' then redis.call('HINCRBY', key, take(), take())
          elseif op == 'HMAX' or op == 'HMIN' then
            local field, raw = take(), take()
            local value, current = tonumber(raw), tonumber(redis.call('HGET', key, field))
            if current == nil or (op == 'HMAX' and value > current) or (op == 'HMIN' and value < current) then
              redis.call('HSET', key, field, raw)
            end
          elseif op == 'DEL' then redis.call('DEL', key)
          elseif op == 'SADD' then redis.call('SADD', key, take())
          elseif op == 'SREM' then redis.call('SREM', key, take())
          elseif op == 'ZADD' then redis.call('ZADD', key, take(), take())
          elseif op == 'ZREM' then redis.call('ZREM', key, take())
          elseif op == 'XADD' then
            local args = {'XADD', key, 'MAXLEN', '~', maxlen, '*'}
            for _, value in ipairs(takeFields()) do args[#args + 1] = value end
            redis.call(unpack(args))
          else
            return redis.error_reply('unknown write ' .. tostring(op))
          end
        end
        for _ = 1, tonumber(take()) do
          local key = takeKey()
          announce(key, maxlen, takeFields())
        end
        local traceKey, traceTTL = takeKey(), take()
        local records = tonumber(take())
        if records > 0 then
          local args = {'RPUSH', traceKey}
          for _ = 1, records do args[#args + 1] = take() end
          if redis.call(unpack(args)) == records then redis.call('EXPIRE', traceKey, traceTTL) end
        end
        if take() == '1' then
          local indexKey, score, member = takeKey(), take(), take()
          redis.call('ZADD', indexKey, 'NX', score, member)
          redis.call('EXPIRE', indexKey, traceTTL)
        end
        if take() == '1' then
          redis.call('HDEL', takeKey(), take())
        end
        redis.call('SET', done, '1', 'EX', ttl)
        redis.call('XACK', stream, group, entry)
        return {'ok'}
        """#)

    /// Builds the `EVALSHA` for one message's commit.
    static func command(
        context: ReceiverContext,
        configuration: BusConfiguration,
        envelopes: [[String]],
        traceRecords: [String],
        traceIndexKey: String?,
        clearError: (key: String, field: String)?
    ) -> RedisCommand {
        let message = context.message
        var keys = KeyTable()
        _ = keys.index(of: doneKey(group: context.group, id: message.id))
        _ = keys.index(of: message.topic.key)
        var arguments: [String] = [context.group, message.entryID, String(configuration.dedupSeconds), String(configuration.streamMaxLength)]

        let reads = context.readSet
        arguments.append(String(reads.count))
        for read in reads {
            let existence = read.existed.map { $0 ? "1" : "0" } ?? "-"
            arguments += [keys.index(of: read.key), existence, String(read.fields.count)]
            for (field, value) in read.fields {
                arguments += [field, value == nil ? "0" : "1", value ?? ""]
            }
        }

        arguments.append(String(context.writes.count))
        for (_, write) in context.writes {
            arguments += encode(write, keys: &keys)
        }

        arguments.append(String(envelopes.count))
        for (entry, fields) in zip(context.emissions, envelopes) {
            arguments += [keys.index(of: entry.emission.topic.key), String(fields.count / 2)]
            arguments += fields
        }

        // Tracing off (`traceSeconds` 0) writes no trace and no index.
        let tracing = configuration.traceSeconds > 0
        if tracing {
            arguments += [keys.index(of: "trace:\(message.trace)"), String(configuration.traceSeconds), String(traceRecords.count)]
            arguments += traceRecords
        } else {
            arguments += ["0", "0", "0"]
        }
        // A chain is indexed once, by the groups handling its root; the trace list's lifetime starts with it.
        if tracing, let traceIndexKey, message.cause.isEmpty {
            arguments += ["1", keys.index(of: traceIndexKey), String(message.atMs), message.trace]
        } else {
            arguments.append("0")
        }
        if let clearError {
            arguments += ["1", keys.index(of: clearError.key), clearError.field]
        } else {
            arguments.append("0")
        }
        return script.evalSHA(keys: keys.keys, arguments: arguments)
    }

    /// Reads the script's reply.
    static func result(_ reply: RedisValue) throws(RedisError) -> Result {
        let parts = try reply.checked().array?.compactMap(\.string) ?? []
        switch parts.first {
        case "ok": return .committed
        case "duplicate": return .duplicate
        case "conflict" where parts.count == 3: return .conflict(key: parts[1], field: parts[2])
        default: throw RedisError(code: .protocolError, message: "unexpected commit reply \(reply)")
        }
    }

    /// The key remembering that `group` handled the message with envelope id `id`.
    static func doneKey(group: String, id: String) -> String { "done:\(group):\(id)" }

    private static func encode(_ write: Write, keys: inout KeyTable) -> [String] {
        let key = keys.index(of: write.key)
        switch write {
        case .hashSet(_, let field, let value): return ["HSET", key, field, value]
        case .hashDelete(_, let field): return ["HDEL", key, field]
        case .hashIncrement(_, let field, let amount): return ["HINCRBY", key, field, String(amount)]
        case .hashMax(_, let field, let value): return ["HMAX", key, field, String(value)]
        case .hashMin(_, let field, let value): return ["HMIN", key, field, String(value)]
        case .delete: return ["DEL", key]
        case .setAdd(_, let member): return ["SADD", key, member]
        case .setRemove(_, let member): return ["SREM", key, member]
        case .sortedSetAdd(_, let score, let member): return ["ZADD", key, String(score), member]
        case .sortedSetRemove(_, let member): return ["ZREM", key, member]
        case .streamAppend(_, let fields): return ["XADD", key, String(fields.count / 2)] + fields
        }
    }
}

/// The keys a script touches, passed as `KEYS` (as Redis Cluster requires) and referred to by index.
struct KeyTable {
    private(set) var keys: [String] = []
    private var indices: [String: Int] = [:]

    /// The 1-based index of `key` in `KEYS`, as text, adding it when new.
    mutating func index(of key: String) -> String {
        if let index = indices[key] { return String(index) }
        keys.append(key)
        indices[key] = keys.count
        return String(keys.count)
    }
}
