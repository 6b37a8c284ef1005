import Redis

/// The one atomic step that finishes a batch of messages in a group, or, in a Redis Cluster, one hash slot's
/// share of one message (a ``CommitPart``). For each part in turn: claim its done marker (a marker that
/// exists means the part was committed before: a duplicate), check the state it read is unchanged (else give
/// the marker back and report a conflict), apply its writes, publish its emissions (stream + pub/sub), index
/// a chain's root under its goal; then acknowledge every message committed or recognised as a duplicate,
/// with one `XACK` per stream.
///
/// Messages of one batch never depend on each other's writes (the consumer sends the batch before a
/// message reads a key an earlier one writes), so each message's outcome is its own.
enum CommitScript {
    /// The outcome of one part's commit.
    enum Result: Equatable {
        case committed
        /// The marker was there: committed before. A part that does not acknowledge its message returns the
        /// marker's value (the rest of the message's commit, for a cluster's first part).
        case duplicate(record: [UInt8]?)
        case conflict(key: String, field: String)
        /// Redis refused one of its writes: its marker was given back and it was not acknowledged, so it
        /// is retried and then dead-lettered; writes before the refused one stay.
        case failed(String)
        /// The connection failed before the message's commit was finished: it stays pending, and its
        /// redelivery finishes what was committed (a cluster's kept commands) or commits it anew.
        case interrupted(RedisError)
    }

    /// Lua defining `checkReads()`: reads a read set from the arguments (per hash: key, expected existence
    /// or `-`, the field count, the field names, then each field's presence and value) and returns `nil`
    /// when it is unchanged, else `{'conflict', key, field}`.
    private static let readCheck = #"""
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

        """#

    /// Checks, without writing, that hashes a message read are unchanged: for a cluster commit whose
    /// reads lie in several slots, the slots it does not write are checked before its first part commits.
    /// Answers `ok` or `{'conflict', key, field}`.
    static let checkScript = BusLua.script(readCheck + #"""
        return checkReads() or 'ok'
        """#)

    static let script = BusLua.script(readCheck + #"""
        local ttl, maxlen, group, indexTTL = take(), take(), take(), take()
        local results, acks, streams = {}, {}, {}
        local function apply()
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
            elseif op == 'XADD' then appendTaken(key, maxlen)
            else
              error('unknown write ' .. tostring(op))
            end
          end
          for _ = 1, tonumber(take()) do
            local key, channel = takeKey(), take()
            announceTaken(key, channel, maxlen)
          end
          if take() == '1' then
            local indexKey, score, member = takeKey(), take(), take()
            redis.call('ZADD', indexKey, 'NX', score, member)
            redis.call('EXPIRE', indexKey, indexTTL)
          end
        end
        local function commit()
          local done, record = takeKey(), take()
          local stream, entry
          if take() == '1' then
            stream, entry = takeKey(), take()
            if not acks[stream] then acks[stream] = {}; streams[#streams + 1] = stream end
          end
          if take() == '1' then redis.call('HDEL', takeKey(), take()) end
          -- GET answers the value of a marker already there (a duplicate), and nil when this claimed it.
          local earlier = redis.call('SET', done, record, 'NX', 'EX', ttl, 'GET')
          if earlier then
            if stream then
              table.insert(acks[stream], entry)
              return 'duplicate'
            end
            return {'duplicate', earlier}
          end
          local conflict = checkReads()
          if conflict then
            redis.call('DEL', done)
            return conflict
          end
          local ok, failure = pcall(apply)
          if not ok then
            -- A write Redis refused (a key of another type, a field that is not an integer): the message
            -- is not marked and not acknowledged, so it is retried and, failing again, dead-lettered.
            redis.call('DEL', done)
            return {'failed', type(failure) == 'table' and tostring(failure.err) or tostring(failure)}
          end
          if stream then table.insert(acks[stream], entry) end
          return 'ok'
        end
        for _ = 1, tonumber(take()) do
          local finish = tonumber(take())
          local outcome = commit()
          results[#results + 1] = outcome
          -- Whatever part of a message's arguments its commit did not read is skipped.
          i = finish
        end
        for _, stream in ipairs(streams) do
          if #acks[stream] > 0 then redis.call('XACK', stream, group, unpack(acks[stream])) end
        end
        return results
        """#)

    /// Builds the one `EVALSHA` that commits `parts` in order.
    static func command(_ parts: [CommitPart], group: String, configuration: BusConfiguration) -> RedisCommand {
        var keys = KeyTable()
        var arguments = RedisArguments(reservingBytes: 1024 * parts.count)
        // The marker keeps the trace as long as tracing asks, and at least the de-duplication window.
        let tracing = configuration.traceSeconds > 0
        arguments.append(tracing ? max(configuration.dedupSeconds, configuration.traceSeconds) : configuration.dedupSeconds)
        arguments.append(configuration.streamMaxLength)
        arguments.append(group)
        arguments.append(configuration.traceSeconds)
        arguments.append(parts.count)
        for part in parts {
            // Each part's arguments are preceded by the (1-based) index just past them, so the script
            // can skip the rest of a duplicate's or a conflict's.
            let encoded = encode(part, keys: &keys)
            arguments.append(arguments.count + 1 + encoded.count + 1)
            arguments.append(contentsOf: encoded)
        }
        return script.evalSHA(keys: keys.keys, arguments: arguments)
    }

    /// The `EVALSHA` of ``checkScript`` that checks `reads` (all in one slot) without writing.
    static func checkCommand(_ reads: [CommitPart.ReadCheck]) -> RedisCommand {
        var keys = KeyTable()
        var arguments = RedisArguments()
        encode(reads, keys: &keys, into: &arguments)
        return checkScript.evalSHA(keys: keys.keys, arguments: arguments)
    }

    private static func encode(_ reads: [CommitPart.ReadCheck], keys: inout KeyTable, into arguments: inout RedisArguments) {
        arguments.append(reads.count)
        for read in reads {
            arguments.append(keys.index(of: read.key))
            // A field read with a value that is still there proves the hash exists: no EXISTS needed then.
            let provenByFields = read.existed == true && read.fields.contains { $0.1 != nil }
            arguments.append(provenByFields ? "-" : read.existed.map { $0 ? "1" : "0" } ?? "-")
            arguments.append(read.fields.count)
            for (field, _) in read.fields { arguments.append(field) }
            for (_, value) in read.fields {
                arguments.append(value == nil ? "0" : "1")
                arguments.append(value ?? "")
            }
        }
    }

    private static func encode(_ part: CommitPart, keys: inout KeyTable) -> RedisArguments {
        var arguments = RedisArguments(reservingBytes: 1024)
        let message = part.message
        arguments.append(keys.index(of: part.marker))
        arguments.append(part.record)
        if part.acknowledges {
            arguments.append("1")
            arguments.append(keys.index(of: message.streamKey))
            arguments.append(message.entryID)
        } else {
            arguments.append("0")
        }
        // A redelivered message's recorded error is cleared whether it now commits or proves a duplicate.
        if let clearError = part.clearError {
            arguments.append("1")
            arguments.append(keys.index(of: clearError.key))
            arguments.append(clearError.field)
        } else {
            arguments.append("0")
        }

        encode(part.reads, keys: &keys, into: &arguments)

        arguments.append(part.writes.count)
        for write in part.writes {
            encode(write, keys: &keys, into: &arguments)
        }

        arguments.append(part.emissions.count)
        for entry in part.emissions {
            arguments.append(keys.index(of: entry.emission.topic.key(partition: message.partition)))
            arguments.append(entry.emission.topic.key)
            BusLua.appendMessage([
                ("id", entry.id), ("signal", entry.emission.topic.name), ("at_ms", String(message.atMs)),
                ("cause", message.id), ("trace", message.trace),
            ] + entry.emission.payload, to: &arguments)
        }

        if let traceIndexKey = part.traceIndexKey {
            arguments.append("1")
            arguments.append(keys.index(of: traceIndexKey))
            arguments.append(Int(message.atMs))
            arguments.append(message.trace)
        } else {
            arguments.append("0")
        }
        return arguments
    }

    /// Reads the script's reply: one result per message, in order.
    static func results(_ reply: RedisValue, count: Int) throws(RedisError) -> [Result] {
        let items = try reply.checked().array ?? []
        guard items.count == count else {
            throw RedisError(code: .protocolError, message: "commit answered \(items.count) results for \(count) messages")
        }
        var results: [Result] = []
        for item in items { results.append(try result(item)) }
        return results
    }

    /// Reads one part's outcome, as the commit script and ``checkScript`` answer it.
    static func result(_ item: RedisValue) throws(RedisError) -> Result {
        if let parts = item.array?.compactMap(\.string), parts.count == 3, parts[0] == "conflict" {
            return .conflict(key: parts[1], field: parts[2])
        } else if let parts = item.array?.compactMap(\.string), parts.count == 2, parts[0] == "failed" {
            return .failed(parts[1])
        } else if item.string == "ok" {
            return .committed
        } else if item.string == "duplicate" {
            return .duplicate(record: nil)
        } else if let parts = item.array, parts.count == 2, parts[0].string == "duplicate" {
            return .duplicate(record: parts[1].bytes ?? [])
        }
        throw RedisError(code: .protocolError, message: "unexpected commit result \(try item.checked())")
    }

    /// The key remembering that `group` handled the message with envelope id `id`; its value is the
    /// message's ``TraceEntry`` (`1` when tracing is off). In a cluster each hash slot a message writes has
    /// its own marker, `done:{<tag>}:<group>:<id>`, with the slot's tag.
    static func doneKey(group: String, id: String, tag: String? = nil) -> String {
        guard let tag else { return "done:\(group):\(id)" }
        return "done:{\(tag)}:\(group):\(id)"
    }

    private static func encode(_ write: Write, keys: inout KeyTable, into arguments: inout RedisArguments) {
        let key = keys.index(of: write.key)
        func put(_ op: String, _ values: String...) {
            arguments.append(op)
            arguments.append(key)
            for value in values { arguments.append(value) }
        }
        switch write {
        case .hashSet(_, let field, let value): put("HSET", field, value)
        case .hashDelete(_, let field): put("HDEL", field)
        case .hashIncrement(_, let field, let amount): put("HINCRBY", field, String(amount))
        case .hashMax(_, let field, let value): put("HMAX", field, String(value))
        case .hashMin(_, let field, let value): put("HMIN", field, String(value))
        case .delete: put("DEL")
        case .setAdd(_, let member): put("SADD", member)
        case .setRemove(_, let member): put("SREM", member)
        case .sortedSetAdd(_, let score, let member): put("ZADD", String(score), member)
        case .sortedSetRemove(_, let member): put("ZREM", member)
        case .streamAppend(_, let fields):
            put("XADD", String(fields.count / 2))
            for field in fields { arguments.append(field) }
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
