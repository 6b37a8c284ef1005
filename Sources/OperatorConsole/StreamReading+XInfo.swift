import Redis

extension StreamReading {
    /// Reads the reply of `XINFO STREAM <key> FULL COUNT 1`; `nil` for an error reply (no such stream).
    /// - Parameter deadLetters: the reply of `XLEN dead:<key>`.
    init?(key: String, full reply: RedisValue, deadLetters: RedisValue) {
        guard reply.array != nil else { return nil }
        let fields = reply.pairs
        self.init(
            key: key, length: fields["length"]?.int ?? 0, entriesAdded: fields["entries-added"]?.int ?? 0,
            deadLetters: deadLetters.int ?? 0, groups: (fields["groups"]?.array ?? []).compactMap(GroupReading.init(full:))
        )
    }
}

extension GroupReading {
    /// Reads one group of `XINFO STREAM … FULL COUNT 1`: its first pending entry is its oldest.
    init?(full reply: RedisValue) {
        let fields = reply.pairs
        guard let name = fields["name"]?.string else { return nil }
        let oldest = fields["pending"]?.array?.first?.array?.first?.string.flatMap(Self.milliseconds(ofEntryID:))
        self.init(
            name: name, lag: fields["lag"]?.int, pending: fields["pel-count"]?.int ?? 0, entriesRead: fields["entries-read"]?.int,
            oldestPendingMs: oldest, consumers: (fields["consumers"]?.array ?? []).compactMap { $0.pairs["name"]?.string }
        )
    }

    /// The time part of a stream entry id (`<ms>-<seq>`).
    static func milliseconds(ofEntryID id: String) -> Int64? {
        Int64(id.prefix { $0 != "-" })
    }
}
