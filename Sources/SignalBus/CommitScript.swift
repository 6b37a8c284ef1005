import Redis

/// The one atomic step that finishes a batch of messages in a group. For each message in turn: claim its
/// done marker, whose value is the message's trace entry (a message whose marker exists was handled
/// before: a duplicate), check the state it read is unchanged (else give the marker back and report a
/// conflict), apply its writes, publish its emissions (stream + pub/sub), index a chain's root under its
/// goal; then acknowledge every message committed or recognised as a duplicate, with one `XACK` per stream.
///
/// Messages of one batch never depend on each other's writes (the consumer sends the batch before a
/// message reads a key an earlier one writes), so each message's outcome is its own.
enum CommitScript {
    /// The outcome of one message's commit.
    enum Result: Equatable {
        case committed
        case duplicate
        case conflict(key: String, field: String)
        /// Redis refused one of its writes: its marker was given back and it was not acknowledged, so it
        /// is retried and then dead-lettered; writes before the refused one stay.
        case failed(String)
    }

    static let script = BusLua.script(#"""
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
            elseif op == 'XADD' then
              local args = {'XADD', key, 'MAXLEN', '~', maxlen, '*'}
              for _, value in ipairs(takeFields()) do args[#args + 1] = value end
              redis.call(unpack(args))
            else
              error('unknown write ' .. tostring(op))
            end
          end
          for _ = 1, tonumber(take()) do
            local key = takeKey()
            announce(key, maxlen, takeFields())
          end
          if take() == '1' then
            local indexKey, score, member = takeKey(), take(), take()
            redis.call('ZADD', indexKey, 'NX', score, member)
            redis.call('EXPIRE', indexKey, indexTTL)
          end
        end
        local function commit()
          local done, record, stream, entry = takeKey(), take(), takeKey(), take()
          if not acks[stream] then acks[stream] = {}; streams[#streams + 1] = stream end
          if take() == '1' then redis.call('HDEL', takeKey(), take()) end
          if not redis.call('SET', done, record, 'NX', 'EX', ttl) then
            table.insert(acks[stream], entry)
            return 'duplicate'
          end
          for _ = 1, tonumber(take()) do
            local key, existence, count = takeKey(), take(), tonumber(take())
            if existence ~= '-' and (redis.call('EXISTS', key) == 1) ~= (existence == '1') then
              redis.call('DEL', done)
              return {'conflict', key, 'exists'}
            end
            if count > 0 then
              local fields, present, expected = {}, {}, {}
              for n = 1, count do fields[n], present[n], expected[n] = take(), take(), take() end
              local actual = redis.call('HMGET', key, unpack(fields))
              for n = 1, count do
                if (present[n] == '1' and actual[n] ~= expected[n]) or (present[n] ~= '1' and actual[n]) then
                  redis.call('DEL', done)
                  return {'conflict', key, fields[n]}
                end
              end
            end
          end
          local ok, failure = pcall(apply)
          if not ok then
            -- A write Redis refused (a key of another type, a field that is not an integer): the message
            -- is not marked and not acknowledged, so it is retried and, failing again, dead-lettered.
            redis.call('DEL', done)
            return {'failed', type(failure) == 'table' and tostring(failure.err) or tostring(failure)}
          end
          table.insert(acks[stream], entry)
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

    /// Builds the one `EVALSHA` that commits `commits` in order.
    static func command(_ commits: [Commit], group: String, configuration: BusConfiguration) -> RedisCommand {
        var keys = KeyTable()
        var arguments = RedisArguments(reservingBytes: 1024 * commits.count)
        // The marker keeps the trace as long as tracing asks, and at least the de-duplication window.
        let tracing = configuration.traceSeconds > 0
        arguments.append(tracing ? max(configuration.dedupSeconds, configuration.traceSeconds) : configuration.dedupSeconds)
        arguments.append(configuration.streamMaxLength)
        arguments.append(group)
        arguments.append(configuration.traceSeconds)
        arguments.append(commits.count)
        for commit in commits {
            // Each message's arguments are preceded by the (1-based) index just past them, so the script
            // can skip the rest of a duplicate's or a conflict's.
            let part = encode(commit, keys: &keys, configuration: configuration)
            arguments.append(arguments.count + 1 + part.count + 1)
            arguments.append(contentsOf: part)
        }
        return script.evalSHA(keys: keys.keys, arguments: arguments)
    }

    /// One message's part of a batch commit.
    struct Commit {
        let context: ReceiverContext
        /// The message's trace entry as JSON; `nil` when tracing is off.
        let trace: [UInt8]?
        let traceIndexKey: String?
        let clearError: (key: String, field: String)?
    }

    private static func encode(_ commit: Commit, keys: inout KeyTable, configuration: BusConfiguration) -> RedisArguments {
        var arguments = RedisArguments(reservingBytes: 1024)
        let context = commit.context
        let message = context.message
        arguments.append(keys.index(of: doneKey(group: context.group, id: message.id)))
        if configuration.traceSeconds > 0, let trace = commit.trace {
            arguments.append(trace)
        } else {
            arguments.append("1")
        }
        arguments.append(keys.index(of: message.topic.key))
        arguments.append(message.entryID)
        // A redelivered message's recorded error is cleared whether it now commits or proves a duplicate.
        if let clearError = commit.clearError {
            arguments.append("1")
            arguments.append(keys.index(of: clearError.key))
            arguments.append(clearError.field)
        } else {
            arguments.append("0")
        }

        let reads = context.readSet
        arguments.append(reads.count)
        for read in reads {
            arguments.append(keys.index(of: read.key))
            // A field read with a value that is still there proves the hash exists: no EXISTS needed then.
            let provenByFields = read.existed == true && read.fields.contains { $0.1 != nil }
            arguments.append(provenByFields ? "-" : read.existed.map { $0 ? "1" : "0" } ?? "-")
            arguments.append(read.fields.count)
            for (field, value) in read.fields {
                arguments.append(field)
                arguments.append(value == nil ? "0" : "1")
                arguments.append(value ?? "")
            }
        }

        arguments.append(context.writes.count)
        for (_, write) in context.writes {
            encode(write, keys: &keys, into: &arguments)
        }

        arguments.append(context.emissions.count)
        for entry in context.emissions {
            arguments.append(keys.index(of: entry.emission.topic.key))
            arguments.append(Message.envelopeFields.count + entry.emission.payload.count)
            for (field, value) in [
                ("id", entry.id), ("signal", entry.emission.topic.name), ("at_ms", String(message.atMs)),
                ("cause", message.id), ("trace", message.trace),
            ] + entry.emission.payload {
                arguments.append(field)
                arguments.append(value)
            }
        }

        // Tracing off (`traceSeconds` 0) keeps no trace and no index.
        let tracing = configuration.traceSeconds > 0
        // A chain is indexed under its goal by the groups handling its root, for `goalctl trace <goal>`.
        if tracing, let traceIndexKey = commit.traceIndexKey, message.cause.isEmpty {
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
        for item in items {
            if let parts = item.array?.compactMap(\.string), parts.count == 3, parts[0] == "conflict" {
                results.append(.conflict(key: parts[1], field: parts[2]))
            } else if let parts = item.array?.compactMap(\.string), parts.count == 2, parts[0] == "failed" {
                results.append(.failed(parts[1]))
            } else if item.string == "ok" {
                results.append(.committed)
            } else if item.string == "duplicate" {
                results.append(.duplicate)
            } else {
                throw RedisError(code: .protocolError, message: "unexpected commit result \(item)")
            }
        }
        return results
    }

    /// The key remembering that `group` handled the message with envelope id `id`; its value is the
    /// message's ``TraceEntry`` (`1` when tracing is off).
    static func doneKey(group: String, id: String) -> String { "done:\(group):\(id)" }

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
