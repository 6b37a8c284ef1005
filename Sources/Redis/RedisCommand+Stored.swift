extension RedisCommand {
    /// Commands written as bytes (in Redis's wire format, one after another) so they can be stored in
    /// Redis and sent later, as they were.
    public static func encode(_ commands: [RedisCommand]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(commands.reduce(0) { $0 + $1.maximumRESPCount })
        for command in commands { command.appendRESP(to: &bytes) }
        return bytes
    }

    /// Reads back commands written by ``encode(_:)``; an `EVALSHA` of one of `scripts` keeps that script
    /// for its `EVAL` fallback.
    /// - Returns: `nil` when the bytes are not commands in that form.
    public static func decode(_ bytes: [UInt8], scripts: [RedisScript] = []) -> [RedisCommand]? {
        var reader = StoredCommandReader(bytes: bytes)
        var commands: [RedisCommand] = []
        while !reader.isAtEnd {
            guard let arguments = reader.readArray(), let name = arguments.first else { return nil }
            var command = RedisCommand(String(decoding: name, as: UTF8.self))
            for argument in arguments.dropFirst() { command.append(Array(argument)) }
            if command.name == "EVALSHA", arguments.count > 1 {
                let sha = String(decoding: arguments[1], as: UTF8.self)
                command.script = scripts.first { $0.sha1 == sha }
            }
            commands.append(command)
        }
        return commands
    }
}

/// Reads arrays of bulk strings (`*<n>\r\n$<len>\r\n<bytes>\r\n…`) from stored bytes.
private struct StoredCommandReader {
    let bytes: [UInt8]
    var offset = 0

    var isAtEnd: Bool { offset >= bytes.count }

    mutating func readArray() -> [ArraySlice<UInt8>]? {
        guard take(UInt8(ascii: "*")), let count = readNumber(), count > 0 else { return nil }
        var items: [ArraySlice<UInt8>] = []
        for _ in 0..<count {
            guard take(UInt8(ascii: "$")), let length = readNumber(), length >= 0,
                  length <= bytes.count - offset - 2 else { return nil }
            items.append(bytes[offset..<offset + length])
            offset += length
            guard take(13), take(10) else { return nil }
        }
        return items
    }

    private mutating func take(_ byte: UInt8) -> Bool {
        guard offset < bytes.count, bytes[offset] == byte else { return false }
        offset += 1
        return true
    }

    private mutating func readNumber() -> Int? {
        var value = 0
        var digits = 0
        while offset < bytes.count, (48...57).contains(bytes[offset]), digits < 10 {
            value = value * 10 + Int(bytes[offset] - 48)
            offset += 1
            digits += 1
        }
        guard digits > 0, take(13), take(10) else { return nil }
        return value
    }
}
