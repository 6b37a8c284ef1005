/// Arguments gathered before the command that carries them is known (a script's `ARGV`, built while its
/// `KEYS` are still being collected), stored contiguously like ``RedisCommand``'s.
public struct RedisArguments: Sendable, Hashable {
    // Visible to inlinable code so that callers in other modules append without a generic call per argument.
    @usableFromInline var storage: [UInt8] = []
    @usableFromInline var lengths: [Int] = []

    /// An empty list, with room for about `bytes` bytes.
    public init(reservingBytes bytes: Int = 0) {
        storage.reserveCapacity(bytes)
    }

    /// The number of arguments.
    public var count: Int { lengths.count }

    /// Appends one argument. Inlinable: it runs for every argument of every commit, and a caller in another
    /// module gets it specialized for the argument's type.
    @inlinable
    public mutating func append(_ argument: some RedisArgument) {
        let before = storage.count
        argument.appendRedisBytes(to: &storage)
        lengths.append(storage.count - before)
    }

    /// Removes every argument, keeping the room they took for the next ones.
    public mutating func removeAll() {
        storage.removeAll(keepingCapacity: true)
        lengths.removeAll(keepingCapacity: true)
    }

    /// Appends every argument of `other`, in order.
    public mutating func append(contentsOf other: RedisArguments) {
        storage += other.storage
        lengths += other.lengths
    }
}

extension RedisScript {
    /// `EVALSHA sha numkeys keys… args…` with arguments gathered beforehand.
    public func evalSHA(keys: [String], arguments: RedisArguments) -> RedisCommand {
        var command = RedisCommand("EVALSHA", sha1, keys.count)
        for key in keys { command.append(key) }
        command.append(contentsOf: arguments)
        command.script = self
        return command
    }
}
