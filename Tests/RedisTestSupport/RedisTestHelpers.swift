import Redis

/// A condition that did not come true in time.
public struct TestTimeout: Error, CustomStringConvertible {
    /// What was awaited, and for how long.
    public let description: String
}

/// Polls `condition` every 20 ms until it holds; throws when `timeout` passes first.
public func eventually(
    _ what: String, within timeout: Duration = .seconds(20), _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while true {
        if try await condition() { return }
        if ContinuousClock.now >= deadline {
            throw TestTimeout(description: "timed out after \(timeout) waiting for \(what)")
        }
        try await Task.sleep(for: .milliseconds(20))
    }
}

/// A stream entry: its id and fields in stored order.
public struct StreamEntry: Equatable, Sendable {
    /// The stream entry id.
    public var entryID: String
    /// Alternating field names and values, as stored.
    public var fields: [String]

    /// The fields as a dictionary.
    public var map: [String: String] {
        var result: [String: String] = [:]
        var index = 0
        while index + 1 < fields.count {
            result[fields[index]] = fields[index + 1]
            index += 2
        }
        return result
    }

    /// One field's value.
    public subscript(field: String) -> String? { map[field] }
}

/// `XRANGE key - +`.
public func streamEntries(_ client: RedisClient, _ key: String) async throws -> [StreamEntry] {
    let reply = try await client.execute("XRANGE", key, "-", "+")
    return (reply.array ?? []).compactMap { entry in
        guard let parts = entry.array, parts.count == 2, let id = parts[0].string else { return nil }
        return StreamEntry(entryID: id, fields: (parts[1].array ?? []).compactMap(\.string))
    }
}

/// `HGETALL key`.
public func hashFields(_ client: RedisClient, _ key: String) async throws -> [String: String] {
    try await client.execute("HGETALL", key).fieldMap
}

/// An integer reply.
public func integer(_ client: RedisClient, _ name: String, _ arguments: any RedisArgument...) async throws -> Int? {
    try await client.execute(RedisCommand(name, arguments: arguments)).int
}

/// Every key but `skip`, for comparing Redis before and after: streams as their entries' fields (entry ids
/// are times), other keys as their type and `DUMP`.
public func snapshot(_ client: RedisClient, skip: Set<String> = []) async throws -> [String: [String]] {
    let keys = try await client.execute("KEYS", "*").array?.compactMap(\.string) ?? []
    var result: [String: [String]] = [:]
    for key in keys where !skip.contains(key) {
        let type = try await client.execute("TYPE", key).string ?? ""
        if type == "stream" {
            result[key] = try await streamEntries(client, key).map { $0.fields.joined(separator: "\u{1}") }
        } else {
            let dump = try await client.execute("DUMP", key).bytes ?? []
            result[key] = [type, dump.map { String($0, radix: 16) }.joined(separator: " ")]
        }
    }
    return result
}

/// One counter of a `cmdstat_<command>` line of `INFO commandstats` (`calls`, `rejected_calls`, …); 0 when
/// the command never ran.
public func commandStat(_ client: RedisClient, _ command: String, _ field: String) async throws -> Int {
    let info = try await client.execute("INFO", "commandstats").string ?? ""
    guard let line = info.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("cmdstat_\(command):") }) else { return 0 }
    for pair in line.drop(while: { $0 != ":" }).dropFirst().split(separator: ",") {
        let parts = pair.split(separator: "=")
        if parts.count == 2, parts[0] == field { return Int(parts[1]) ?? 0 }
    }
    return 0
}
