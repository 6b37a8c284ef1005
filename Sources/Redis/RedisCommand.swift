/// A value that can be sent as one argument of a Redis command.
public protocol RedisArgument {
    /// Appends the argument's bytes to a command buffer.
    func appendRedisBytes(to buffer: inout [UInt8])
}

extension String: RedisArgument {
    @inlinable public func appendRedisBytes(to buffer: inout [UInt8]) { buffer.append(contentsOf: utf8) }
}

extension Substring: RedisArgument {
    @inlinable public func appendRedisBytes(to buffer: inout [UInt8]) { buffer.append(contentsOf: utf8) }
}

extension Int: RedisArgument {
    @inlinable public func appendRedisBytes(to buffer: inout [UInt8]) { buffer.append(contentsOf: String(self).utf8) }
}

extension Array: RedisArgument where Element == UInt8 {
    @inlinable public func appendRedisBytes(to buffer: inout [UInt8]) { buffer.append(contentsOf: self) }
}

/// One Redis command as binary-safe arguments, stored contiguously.
public struct RedisCommand: Sendable, Hashable, CustomStringConvertible {
    /// The command name, then its arguments.
    @usableFromInline var arguments = RedisArguments()
    /// The script an `EVALSHA` runs, so the connection can fall back to `EVAL`.
    var script: RedisScript?

    /// All argument bytes, one after another.
    var storage: [UInt8] { arguments.storage }
    /// The length of each argument in `storage`.
    var lengths: [Int] { arguments.lengths }

    /// Creates a command from its name and arguments, e.g. `RedisCommand("HSET", key, "field", 1)`.
    public init(_ name: String, _ arguments: any RedisArgument...) {
        self.init(name, arguments: arguments)
    }

    /// Creates a command from its name and an array of arguments.
    public init(_ name: String, arguments: [any RedisArgument]) {
        append(name)
        for argument in arguments { append(argument) }
    }

    /// Appends one argument (inlinable, as ``RedisArguments/append(_:)`` is).
    @inlinable
    public mutating func append(_ argument: some RedisArgument) {
        arguments.append(argument)
    }

    /// Appends every argument of `arguments`, in order.
    public mutating func append(contentsOf arguments: RedisArguments) {
        self.arguments.append(contentsOf: arguments)
    }

    /// Appends the command in Redis's wire format (RESP: an array of bulk strings) to `buffer`, without
    /// allocating: this runs for every argument of every command sent.
    func appendRESP(to buffer: inout [UInt8]) {
        buffer.append(UInt8(ascii: "*"))
        Self.appendDecimal(lengths.count, to: &buffer)
        arguments.storage.withUnsafeBufferPointer { storage in
            var offset = 0
            for length in lengths {
                buffer.append(13)
                buffer.append(10)
                buffer.append(UInt8(ascii: "$"))
                Self.appendDecimal(length, to: &buffer)
                buffer.append(13)
                buffer.append(10)
                buffer.append(contentsOf: UnsafeBufferPointer(rebasing: storage[offset..<offset + length]))
                offset += length
            }
        }
        buffer.append(13)
        buffer.append(10)
    }

    /// The bytes ``appendRESP(to:)`` appends, at most (a pipeline's buffer is reserved once).
    var maximumRESPCount: Int { arguments.storage.count + 16 * (lengths.count + 1) }

    private static func appendDecimal(_ value: Int, to buffer: inout [UInt8]) {
        var divisor = 1
        while divisor <= value / 10 { divisor *= 10 }
        var rest = value
        repeat {
            buffer.append(UInt8(48 + rest / divisor))
            rest %= divisor
            divisor /= 10
        } while divisor > 0
    }

    /// The number of arguments, the command name included.
    public var argumentCount: Int { lengths.count }

    /// The command's name, upper-cased.
    public var name: String {
        guard let first = lengths.first else { return "" }
        return String(decoding: storage[0..<first], as: UTF8.self).uppercased()
    }

    /// The command name and its argument count; never the values, which may be secrets.
    public var description: String { "\(name) (\(argumentCount - 1) arguments)" }
}
