extension RedisCommand {
    /// The hash slot a cluster must serve this command from, or `nil` when any node can answer it.
    ///
    /// The keys are found the way Redis's command table places them, for the commands this product sends:
    /// - `EVAL`/`EVALSHA` (and `_RO`), `FCALL`: `numkeys` at argv[2], the keys after it; no keys → any node.
    /// - `XREAD`/`XREADGROUP`: the first half of the arguments after `STREAMS`.
    /// - `XINFO`, `XGROUP`, `OBJECT`, `MEMORY`: the key after the subcommand, at argv[2].
    /// - `DEL`, `UNLINK`, `EXISTS`, `TOUCH`, `MGET`: every argument; `MSET`, `MSETNX`: every other one.
    /// - Keyless commands (`PING`, `INFO`, `SCRIPT`, `CONFIG`, `CLUSTER`, …): any node. So `KEYS`, `SCAN`,
    ///   `DBSIZE`, `FLUSHALL` and `SCRIPT LOAD` reach one master only.
    /// - Any other command: its key is argv[1] (`GET`, `SET`, `HSET`, `XADD`, `XACK`, `ZADD`, `PUBLISH`'s
    ///   channel, …).
    ///
    /// - Throws: ``RedisError/Code/crossSlot`` when the keys hash to different slots (Redis would answer
    ///   `CROSSSLOT`); ``RedisError/Code/cluster`` for transactions, which a cluster client cannot route.
    func clusterSlot() throws(RedisError) -> HashSlot? {
        let name = self.name
        guard !Self.keyless.contains(name) else { return nil }
        let arguments = self.slices
        let keys: ArraySlice<ArraySlice<UInt8>>
        switch name {
        case "MULTI", "EXEC", "DISCARD", "WATCH", "UNWATCH":
            throw RedisError(
                code: .cluster,
                message: "\(name) is not supported by RedisClusterClient: use a script, or a dedicated client of the key's node"
            )
        case "EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO":
            let count = arguments.count > 2 ? Int(String(decoding: arguments[2], as: UTF8.self)) ?? 0 : 0
            keys = arguments.dropFirst(3).prefix(count)
        case "XREAD", "XREADGROUP":
            guard let streams = arguments.firstIndex(where: { Self.isStreams($0) }) else { return nil }
            let rest = arguments[(streams + 1)...]
            keys = rest.prefix(rest.count / 2)
        case "XINFO", "XGROUP", "OBJECT", "MEMORY":
            keys = arguments.dropFirst(2).prefix(1)
        case "DEL", "UNLINK", "EXISTS", "TOUCH", "MGET":
            keys = arguments.dropFirst()
        case "MSET", "MSETNX":
            keys = ArraySlice(stride(from: 1, to: arguments.count, by: 2).map { arguments[$0] })
        default:
            keys = arguments.dropFirst().prefix(1)
        }
        guard let first = keys.first else { return nil }
        let slot = HashSlot(keyBytes: first)
        for key in keys.dropFirst() {
            let other = HashSlot(keyBytes: key)
            guard other == slot else {
                throw RedisError(
                    code: .crossSlot,
                    message: "CROSSSLOT the keys of \(name) hash to different slots (\(slot) and \(other)); nothing was sent: give them one {hash tag}"
                )
            }
        }
        return slot
    }

    /// The arguments, the command name first, as slices of `storage`.
    var slices: [ArraySlice<UInt8>] {
        var result: [ArraySlice<UInt8>] = []
        result.reserveCapacity(lengths.count)
        var offset = 0
        for length in lengths {
            result.append(storage[offset..<offset + length])
            offset += length
        }
        return result
    }

    /// Commands without keys: any node answers them.
    private static let keyless: Set<String> = [
        "ACL", "ASKING", "AUTH", "CLIENT", "CLUSTER", "COMMAND", "CONFIG", "DBSIZE", "ECHO", "FLUSHALL", "FLUSHDB",
        "FUNCTION", "HELLO", "INFO", "KEYS", "LASTSAVE", "LATENCY", "PING", "RANDOMKEY", "READONLY", "READWRITE",
        "ROLE", "SCAN", "SCRIPT", "SLOWLOG", "TIME",
    ]

    private static func isStreams(_ argument: ArraySlice<UInt8>) -> Bool {
        argument.count == 7 && String(decoding: argument, as: UTF8.self).uppercased() == "STREAMS"
    }
}
