import Crypto
import Hex

/// A Lua script run with `EVALSHA`, falling back to `EVAL` when the server has not got it cached
/// (after `SCRIPT FLUSH` or a restart).
public struct RedisScript: Sendable, Hashable {
    /// The Lua source.
    public let source: String
    /// The lowercase hex SHA-1 of the source, as Redis names cached scripts.
    public let sha1: String

    /// Creates a script from its Lua source.
    public init(_ source: String) {
        self.source = source
        self.sha1 = Hex.string(Insecure.SHA1.hash(data: Array(source.utf8)))
    }

    /// `EVALSHA sha numkeys keys… args…`.
    public func evalSHA(keys: [String], arguments: [any RedisArgument]) -> RedisCommand {
        var command = command("EVALSHA", sha1, keys: keys, arguments: arguments)
        command.script = self
        return command
    }

    /// `EVAL source numkeys keys… args…`.
    public func eval(keys: [String], arguments: [any RedisArgument]) -> RedisCommand {
        command("EVAL", source, keys: keys, arguments: arguments)
    }

    private func command(_ name: String, _ body: String, keys: [String], arguments: [any RedisArgument]) -> RedisCommand {
        var command = RedisCommand(name, body, keys.count)
        for key in keys { command.append(key) }
        for argument in arguments { command.append(argument) }
        return command
    }
}

extension RedisCommand {
    /// The same call as `EVAL` with the script's source, for when the server answers `NOSCRIPT`.
    var evalFallback: RedisCommand? {
        guard let script else { return nil }
        var fallback = RedisCommand("EVAL", script.source)
        var offset = lengths[0] + lengths[1]
        for length in lengths.dropFirst(2) {
            fallback.append(Array(storage[offset..<offset + length]))
            offset += length
        }
        return fallback
    }
}
