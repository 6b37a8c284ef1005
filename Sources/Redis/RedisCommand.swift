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

    /// Appends the command in Redis's wire format (RESP: an array of bulk strings) to `buffer`: the room it
    /// may take is added once, filled in one pass of plain stores, and what is left over taken off, since
    /// this runs for every argument of every command sent.
    func appendRESP(to buffer: inout [UInt8]) {
        let start = buffer.count
        let room = maximumRESPCount
        buffer.append(contentsOf: repeatElement(0, count: room))
        let written = buffer.withUnsafeMutableBufferPointer { output in
            arguments.storage.withUnsafeBufferPointer { storage in
                var out = output.baseAddress! + start
                let first = out
                func put(_ byte: UInt8) {
                    out.pointee = byte
                    out += 1
                }
                func putLine(_ marker: UInt8, _ value: Int) {
                    put(marker)
                    out += Self.writeDecimal(value, to: out)
                    put(13)
                    put(10)
                }
                putLine(UInt8(ascii: "*"), lengths.count)
                var offset = 0
                for length in lengths {
                    putLine(UInt8(ascii: "$"), length)
                    if length > 0 {
                        (out).update(from: storage.baseAddress! + offset, count: length)
                        out += length
                    }
                    put(13)
                    put(10)
                    offset += length
                }
                return out - first
            }
        }
        buffer.removeLast(room - written)
    }

    /// The bytes ``appendRESP(to:)`` appends, at most (a pipeline's buffer is reserved once).
    var maximumRESPCount: Int { arguments.storage.count + 24 * (lengths.count + 1) }

    /// Writes `value` (not negative) in decimal at `out`; returns how many digits it wrote.
    private static func writeDecimal(_ value: Int, to out: UnsafeMutablePointer<UInt8>) -> Int {
        var digits = 1
        var bound = 10
        while value >= bound && digits < 19 {
            digits += 1
            bound &*= 10
        }
        var rest = value
        var index = digits
        repeat {
            index -= 1
            out[index] = UInt8(48 + rest % 10)
            rest /= 10
        } while index > 0
        return digits
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
