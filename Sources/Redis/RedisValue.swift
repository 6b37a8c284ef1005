/// A reply from the Redis server, copied out of hiredis's reply object.
///
/// Debian's hiredis speaks RESP2, so these are the only reply kinds a server can send.
public enum RedisValue: Sendable, Hashable {
    /// A bulk string: arbitrary bytes, possibly containing NUL.
    case bulk([UInt8])
    /// A status reply such as `OK` or `QUEUED`.
    case status(String)
    /// An integer reply.
    case integer(Int)
    /// An array reply (a multi-bulk).
    case array([RedisValue])
    /// A nil bulk or nil array.
    case null
    /// An error reply; the text is the server's, for example `ERR unknown command 'FOO'`.
    case error(String)
}

extension RedisValue {
    /// The reply as text: bulk strings decoded as UTF-8 (invalid bytes repaired), status and integers as written.
    public var string: String? {
        switch self {
        case .bulk(let bytes): String(decoding: bytes, as: UTF8.self)
        case .status(let text): text
        case .integer(let value): String(value)
        case .null, .array, .error: nil
        }
    }

    /// The reply as an integer: integer replies, and bulk strings holding a decimal integer.
    public var int: Int? {
        switch self {
        case .integer(let value): value
        case .bulk(let bytes): Int(String(decoding: bytes, as: UTF8.self))
        case .status(let text): Int(text)
        case .null, .array, .error: nil
        }
    }

    /// The elements of an array reply, or `nil` for any other reply.
    public var array: [RedisValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// The raw bytes of a bulk string reply.
    public var bytes: [UInt8]? {
        if case .bulk(let bytes) = self { return bytes }
        return nil
    }

    /// Whether this is the nil reply.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The server's error text when this is an error reply.
    public var errorMessage: String? {
        if case .error(let message) = self { return message }
        return nil
    }

    /// An array of alternating field/value bulk strings (`HGETALL`, stream entry fields) as a dictionary.
    public var fieldMap: [String: String] {
        guard let elements = array else { return [:] }
        var map: [String: String] = [:]
        map.reserveCapacity(elements.count / 2)
        var index = elements.startIndex
        while index + 1 < elements.endIndex {
            if let field = elements[index].string, let value = elements[index + 1].string {
                map[field] = value
            }
            index += 2
        }
        return map
    }

    /// An array of alternating names and replies (`XINFO GROUPS` entries, `XINFO STREAM`) as a dictionary.
    public var pairs: [String: RedisValue] {
        var result: [String: RedisValue] = [:]
        let elements = array ?? []
        var index = 0
        while index + 1 < elements.count {
            if let name = elements[index].string { result[name] = elements[index + 1] }
            index += 2
        }
        return result
    }

    /// Returns the reply, or throws ``RedisError`` when it is an error reply.
    public func checked() throws(RedisError) -> RedisValue {
        if case .error(let message) = self { throw RedisError(code: .server, message: message) }
        return self
    }
}
