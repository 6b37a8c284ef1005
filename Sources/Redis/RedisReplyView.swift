import CHiredis

/// A reply read in place, where hiredis parsed it: nothing is copied until a decoder asks for it, so the
/// strings and dictionaries a caller needs are built straight from the reply's bytes, without the
/// ``RedisValue`` tree (and its array per bulk string) in between. For the hot paths that read many fields
/// per call: stream reads and `HGETALL`.
///
/// A view is borrowed: it is valid only inside the decoding closure it is handed to (see
/// ``RedisLink/send(_:timeout:decoding:)``) and must not escape it. Copy what outlives the closure
/// (``value`` copies the whole reply).
public struct RedisReplyView {
    /// The kind of a reply (RESP2, as Debian's hiredis speaks it).
    public enum Kind: Sendable, Hashable {
        case bulk, status, integer, array, null, error
    }

    /// `nil` for a nil element of an array, which hiredis may leave without a reply object.
    private let reply: UnsafePointer<redisReply>?

    init(_ reply: UnsafePointer<redisReply>?) {
        self.reply = reply
    }

    /// What kind of reply this is.
    public var kind: Kind {
        guard let type = reply?.pointee.type else { return .null }
        return switch type {
        case REDIS_REPLY_STRING: .bulk
        case REDIS_REPLY_STATUS: .status
        case REDIS_REPLY_INTEGER: .integer
        case REDIS_REPLY_ARRAY: .array
        case REDIS_REPLY_ERROR: .error
        default: .null
        }
    }

    /// Whether this is the nil reply.
    public var isNull: Bool { kind == .null }

    /// The number of elements of an array reply; 0 for any other reply.
    public var count: Int {
        guard let reply, reply.pointee.type == REDIS_REPLY_ARRAY else { return 0 }
        return reply.pointee.elements
    }

    /// The element at `index` of an array reply (`0..<count`).
    public subscript(index: Int) -> RedisReplyView {
        precondition(index >= 0 && index < count, "element \(index) of a reply of \(count)")
        return RedisReplyView(reply!.pointee.element[index].map { UnsafePointer($0) })
    }

    /// Calls `body` with the bytes of a bulk string, status or error reply, borrowed for the call; returns
    /// `nil` for any other reply.
    public func withBytes<Value, Failure>(
        _ body: (UnsafeBufferPointer<UInt8>) throws(Failure) -> Value
    ) throws(Failure) -> Value? {
        guard let reply else { return nil }
        switch reply.pointee.type {
        case REDIS_REPLY_STRING, REDIS_REPLY_STATUS, REDIS_REPLY_ERROR:
            let length = reply.pointee.len
            guard length > 0, let start = reply.pointee.str else { return try body(UnsafeBufferPointer(start: nil, count: 0)) }
            // CChar and UInt8 may alias each other.
            return try body(UnsafeBufferPointer(start: UnsafeRawPointer(start).assumingMemoryBound(to: UInt8.self), count: length))
        default:
            return nil
        }
    }

    /// The reply as text, as ``RedisValue/string`` gives it: bulk strings decoded as UTF-8 (invalid bytes
    /// repaired), status and integers as written.
    public var string: String? {
        if kind == .integer { return String(reply!.pointee.integer) }
        guard kind == .bulk || kind == .status else { return nil }
        return withBytes { String(decoding: $0, as: UTF8.self) }
    }

    /// The reply as an integer: integer replies, and bulk strings or status holding a decimal integer.
    public var int: Int? {
        if kind == .integer { return Int(reply!.pointee.integer) }
        guard kind == .bulk || kind == .status else { return nil }
        return string.flatMap { Int($0) }
    }

    /// The server's error text when this is an error reply.
    public var errorMessage: String? {
        guard kind == .error else { return nil }
        return withBytes { String(decoding: $0, as: UTF8.self) }
    }

    /// Whether this is an error reply whose text starts with `prefix` (`NOSCRIPT`, `MOVED`), checked
    /// without making a string.
    public func isError(startingWith prefix: StaticString) -> Bool {
        guard kind == .error else { return false }
        return withBytes { bytes in
            prefix.withUTF8Buffer { prefix in bytes.count >= prefix.count && bytes.prefix(prefix.count).elementsEqual(prefix) }
        } ?? false
    }

    /// The reply copied out into a ``RedisValue``.
    public var value: RedisValue {
        switch kind {
        case .bulk: .bulk(withBytes { Array($0) } ?? [])
        case .status: .status(string ?? "")
        case .error: .error(errorMessage ?? "")
        case .integer: .integer(Int(reply!.pointee.integer))
        case .null: .null
        case .array:
            .array((0..<count).map { self[$0].value })
        }
    }

    /// Returns the view, or throws ``RedisError`` when it is an error reply.
    public func checked() throws(RedisError) -> RedisReplyView {
        if let message = errorMessage { throw RedisError(code: .server, message: message) }
        return self
    }

    /// Calls `body` with each field and value of an array of alternating field/value replies (`HGETALL`,
    /// a stream entry's fields), in order; a trailing field without a value is left out.
    public func forEachPair<Failure>(_ body: (RedisReplyView, RedisReplyView) throws(Failure) -> Void) throws(Failure) {
        let count = count
        var index = 0
        while index + 1 < count {
            try body(self[index], self[index + 1])
            index += 2
        }
    }

    /// An array of alternating field/value bulk strings as its pairs, in order (no dictionary: for a caller
    /// that looks up a few fields of it).
    public var fieldPairs: [(String, String)] {
        var pairs: [(String, String)] = []
        pairs.reserveCapacity(count / 2)
        forEachPair { field, value in
            if let field = field.string, let value = value.string { pairs.append((field, value)) }
        }
        return pairs
    }

    /// An array of alternating field/value bulk strings as a dictionary, as ``RedisValue/fieldMap`` gives it.
    public var fieldMap: [String: String] {
        var map: [String: String] = [:]
        map.reserveCapacity(count / 2)
        forEachPair { field, value in
            if let field = field.string, let value = value.string { map[field] = value }
        }
        return map
    }
}

extension RedisValue {
    /// Copies a hiredis reply (and its elements) into Swift values. The caller frees the reply.
    init(copying reply: UnsafePointer<redisReply>) {
        self = RedisReplyView(reply).value
    }

    /// Calls `body` with a view of this value, for code that decodes views when the reply came as a value
    /// (a cluster command sent again after a redirect). The value is encoded as RESP and parsed by hiredis's
    /// reader, so the view is exactly what a reply read from a server would be.
    func withView<Value>(_ body: (RedisReplyView) throws(RedisError) -> Value) throws(RedisError) -> Value {
        var encoded: [UInt8] = []
        appendRESP(to: &encoded)
        guard let reader = redisReaderCreate() else {
            throw RedisError(code: .protocolError, message: "cannot allocate a reply reader")
        }
        defer { redisReaderFree(reader) }
        var raw: UnsafeMutableRawPointer?
        let status = encoded.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { bytes in
                redisReaderFeed(reader, bytes.baseAddress, bytes.count) == REDIS_OK ? redisReaderGetReply(reader, &raw) : REDIS_ERR
            }
        }
        guard status == REDIS_OK, let raw else {
            throw RedisError(code: .protocolError, message: "a reply could not be read back from its own encoding")
        }
        defer { freeReplyObject(raw) }
        return try body(RedisReplyView(raw.assumingMemoryBound(to: redisReply.self)))
    }

    /// Appends the value in Redis's wire format (RESP2).
    private func appendRESP(to buffer: inout [UInt8]) {
        func line(_ type: Character, _ text: some Sequence<UInt8>) {
            buffer.append(contentsOf: String(type).utf8)
            buffer.append(contentsOf: text)
            buffer += [13, 10]
        }
        switch self {
        case .bulk(let bytes):
            line("$", String(bytes.count).utf8)
            buffer += bytes
            buffer += [13, 10]
        case .status(let text): line("+", text.utf8)
        case .error(let text): line("-", text.utf8)
        case .integer(let value): line(":", String(value).utf8)
        case .null: line("$", "-1".utf8)
        case .array(let elements):
            line("*", String(elements.count).utf8)
            for element in elements { element.appendRESP(to: &buffer) }
        }
    }
}
