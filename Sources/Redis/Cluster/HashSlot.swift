/// One of the 16384 hash slots a Redis Cluster shards its keys into.
///
/// A key's slot is the CRC16 (XMODEM) of the key modulo 16384. When the key holds a `{hash tag}` (a `{`,
/// then a `}` after it with at least one byte between them), only the bytes between the first `{` and the
/// first `}` after it are hashed, so `{user1000}.following` and `{user1000}.followers` share a slot.
public struct HashSlot: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// How many slots a cluster has.
    public static let count = 16384

    /// The slot number, from 0 to 16383.
    public let number: Int

    /// The slot with the given number.
    /// - Precondition: `number` is in `0..<16384`.
    public init(_ number: Int) {
        precondition((0..<Self.count).contains(number), "a hash slot is from 0 to 16383, not \(number)")
        self.number = number
    }

    /// The slot of a key (its bytes, as sent to Redis).
    public init(key: some RedisArgument) {
        var bytes: [UInt8] = []
        key.appendRedisBytes(to: &bytes)
        self.init(keyBytes: bytes[...])
    }

    /// The slot of a key given as bytes, honouring the hash tag rules.
    init(keyBytes key: ArraySlice<UInt8>) {
        var hashed = key
        if let open = key.firstIndex(of: UInt8(ascii: "{")),
           let close = key[(open + 1)...].firstIndex(of: UInt8(ascii: "}")), close > open + 1 {
            hashed = key[(open + 1)..<close]
        }
        number = Int(Self.crc16(hashed)) % Self.count
    }

    /// A short hash tag whose keys land in this slot: `"{\(tag)}"` in a key name places it here. The tags
    /// are the shortest decimal numbers that hash to each slot, found once when first asked for.
    public var tag: String { Self.tags[number] }

    private static let tags: [String] = {
        var tags = [String?](repeating: nil, count: count)
        var found = 0
        var candidate = 0
        while found < count {
            let text = String(candidate)
            let slot = Int(crc16(text.utf8)) % count
            if tags[slot] == nil {
                tags[slot] = text
                found += 1
            }
            candidate += 1
        }
        return tags.map { $0! }
    }()

    /// CRC16-CCITT in its XMODEM form (polynomial 0x1021, initial value 0), as Redis Cluster uses it.
    static func crc16(_ bytes: some Sequence<UInt8>) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc = (crc << 8) ^ table[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ byte)]
        }
        return crc
    }

    private static let table: [UInt16] = (0..<256).map { index in
        var crc = UInt16(index) << 8
        for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
        return crc
    }

    public static func < (lhs: HashSlot, rhs: HashSlot) -> Bool { lhs.number < rhs.number }

    public var description: String { String(number) }
}
