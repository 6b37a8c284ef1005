import Redis

/// The one atomic step that finishes messages of a group, or, in a Redis Cluster, one hash slot's share of
/// one message (a ``CommitPart``).
///
/// For each part in turn it checks the state the receivers read is unchanged (else reports a conflict and
/// writes nothing); then the part that finishes its message acknowledges the entry with `XACK` and, when the
/// entry was no longer pending for the group (another replica committed it after a claim, or it was
/// dead-lettered), applies nothing; otherwise it applies the writes, publishes the emissions (stream and
/// pub/sub) and records the trace entry of a traced delivery. Exactly-once therefore needs no key per
/// delivered message: the acknowledgement is the record.
///
/// Messages of one call never depend on each other's writes (the consumer sends the waiting commits before a
/// message reads a key an earlier one writes), so each message's outcome is its own.
enum CommitScript {
    /// The outcome of one part's commit.
    enum Result: Equatable {
        case committed
        /// The entry was no longer pending for the group: applied before, by this or another replica, or
        /// dead-lettered. Nothing was written.
        case acknowledged
        /// A cluster part whose marker was there: committed before. Its value is the marker's (the rest of
        /// the message's commit, for a first part).
        case duplicate(record: [UInt8])
        case conflict(key: String, field: String)
        /// Redis refused one of its writes. The finishing part moved its entry to the dead letters with the
        /// error (a refused write fails again however often it is retried); writes before the refused one stay.
        case failed(String)
        /// The connection failed before the message's commit was finished: it stays pending, and its
        /// redelivery finishes what was committed (a cluster's kept commands) or commits it anew.
        case interrupted(RedisError)
    }

    /// Checks, without writing, that hashes a message read are unchanged (`Lua/check.lua`).
    static let checkScript = BusLua.script("prelude", "reads", "check")

    /// The commit (`Lua/commit.lua`).
    static let script = BusLua.script("prelude", "reads", "commit")

    /// Builds the one `EVALSHA` that commits `parts` in order.
    static func command(_ parts: [CommitPart], group: String, configuration: BusConfiguration) -> RedisCommand {
        var keys = KeyTable()
        var arguments = RedisArguments(reservingBytes: 1024 * parts.count)
        arguments.append(group)
        arguments.append(configuration.traceSeconds)
        arguments.append(configuration.redeliverySeconds)
        arguments.append(parts.count)
        // One buffer for every part's arguments, emptied between parts.
        var encoded = RedisArguments(reservingBytes: 1024)
        for part in parts {
            // Each part's arguments are preceded by the (1-based) index just past them, so the script
            // can skip the rest of an acknowledged entry's, a duplicate's or a conflict's.
            encoded.removeAll()
            encode(part, keys: &keys, into: &encoded)
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
            guard !read.fields.isEmpty else { continue }
            for (field, _) in read.fields { arguments.append(field) }
            // Which fields were present, one character each, then the values of those only.
            arguments.append(String(decoding: read.fields.map { $0.1 == nil ? UInt8(ascii: "0") : UInt8(ascii: "1") }, as: UTF8.self))
            for case (_, let value?) in read.fields { arguments.append(value) }
        }
    }

    /// The flags that open a part's arguments (see `Lua/commit.lua`).
    private enum Flag {
        static let finishes = 1
        static let clearsError = 2
        static let tracesEntry = 4
        static let indexesRoot = 8
        static let traced = 16
    }

    private static func encode(_ part: CommitPart, keys: inout KeyTable, into arguments: inout RedisArguments) {
        let message = part.message
        var flags = 0
        if part.acknowledges { flags += Flag.finishes }
        if part.clearError != nil { flags += Flag.clearsError }
        if part.trace != nil { flags += Flag.tracesEntry }
        if part.traceIndexKey != nil { flags += Flag.indexesRoot }
        if part.traced { flags += Flag.traced }
        arguments.append(flags)
        switch part.guarding {
        case .acknowledges(let dead, let deliveries):
            arguments.append(keys.index(of: message.streamKey))
            arguments.append(message.entryID)
            arguments.append(keys.index(of: dead))
            arguments.append(deliveries)
        case .marker(let key, let record):
            arguments.append(keys.index(of: key))
            arguments.append(record)
        }
        // A redelivered message's recorded error is cleared once it commits or proves applied before.
        if let clearError = part.clearError {
            arguments.append(keys.index(of: clearError.key))
            arguments.append(clearError.field)
        }

        encode(part.reads, keys: &keys, into: &arguments)

        arguments.append(writeCount(part.writes))
        encode(part.writes, keys: &keys, into: &arguments)

        arguments.append(part.emissions.count)
        if !part.emissions.isEmpty {
            // The envelope every emission of the message shares, once: its values, then the same as JSON members.
            let atMs = String(message.atMs)
            arguments.append(atMs)
            arguments.append(message.id)
            arguments.append(message.trace)
            var shared = [("at_ms", atMs), ("cause", message.id), ("trace", message.trace)]
            if part.traced { shared.append((Message.tracedField, "1")) }
            arguments.append(JSONMembers(shared, braced: false))
        }
        for entry in part.emissions {
            let stream = entry.emission.topic.key(partition: message.partition)
            arguments.append(keys.index(of: stream))
            arguments.append(stream == entry.emission.topic.key ? "" : entry.emission.topic.key)
            arguments.append(entry.id)
            arguments.append(entry.emission.payload.count)
            for (field, value) in entry.emission.payload {
                arguments.append(field)
                arguments.append(value)
            }
            arguments.append(JSONMembers(entry.emission.payload, braced: false))
        }

        if let trace = part.trace {
            arguments.append(keys.index(of: trace.key))
            arguments.append(trace.field)
            arguments.append(trace.entry)
        }
        if let traceIndexKey = part.traceIndexKey {
            arguments.append(keys.index(of: traceIndexKey))
            arguments.append(Int(message.atMs))
            arguments.append(message.trace)
        }
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
        } else if item.string == "acknowledged" {
            return .acknowledged
        } else if let parts = item.array, parts.count == 2, parts[0].string == "duplicate" {
            return .duplicate(record: parts[1].bytes ?? [])
        }
        throw RedisError(code: .protocolError, message: "unexpected commit result \(try item.checked())")
    }

    /// The marker of a cluster commit's part in the slot with hash tag `tag`: `done:{<tag>}:<group>:<id>`,
    /// kept for the redelivery horizon (``BusConfiguration/redeliverySeconds``).
    static func markerKey(group: String, id: String, tag: String) -> String {
        "done:{\(tag)}:\(group):\(id)"
    }

    /// How many writes the script runs for `writes`: a run of deletes is one `DEL` of several keys.
    private static func writeCount(_ writes: [CommittedWrite]) -> Int {
        var count = 0
        var previousDeleted = false
        for write in writes {
            let deletes = if case .asked(.delete) = write { true } else { false }
            if !(deletes && previousDeleted) { count += 1 }
            previousDeleted = deletes
        }
        return count
    }

    private static func encode(_ writes: [CommittedWrite], keys: inout KeyTable, into arguments: inout RedisArguments) {
        var index = writes.startIndex
        while index < writes.endIndex {
            defer { index += 1 }
            func put(_ op: String, _ key: String, _ values: String...) {
                arguments.append(op)
                arguments.append(keys.index(of: key))
                for value in values { arguments.append(value) }
            }
            switch writes[index] {
            case .hashSet(let key, let fields):
                put("HSET", key, String(fields.count * 2))
                for (field, value) in fields {
                    arguments.append(field)
                    arguments.append(value)
                }
            case .hashDelete(let key, let fields):
                put("HDEL", key, String(fields.count))
                for field in fields { arguments.append(field) }
            case .asked(.delete):
                // The deletes that follow one another go in one DEL.
                var last = index
                while last + 1 < writes.endIndex, case .asked(.delete) = writes[last + 1] { last += 1 }
                arguments.append("DEL")
                arguments.append(last - index + 1)
                for write in writes[index...last] { arguments.append(keys.index(of: write.key)) }
                index = last
            case .asked(let write):
                switch write {
                case .hashSet(let key, let field, let value): put("HSET", key, "2", field, value)
                case .hashDelete(let key, let field): put("HDEL", key, "1", field)
                case .hashIncrement(let key, let field, let amount): put("HINCRBY", key, field, String(amount))
                case .hashMax(let key, let field, let value): put("HMAX", key, field, String(value))
                case .hashMin(let key, let field, let value): put("HMIN", key, field, String(value))
                case .delete: break
                case .setAdd(let key, let member): put("SADD", key, member)
                case .setRemove(let key, let member): put("SREM", key, member)
                case .sortedSetAdd(let key, let score, let member): put("ZADD", key, String(score), member)
                case .sortedSetRemove(let key, let member): put("ZREM", key, member)
                case .streamAppend(let key, let fields):
                    put("XADD", key, String(fields.count / 2))
                    for field in fields { arguments.append(field) }
                }
            }
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
