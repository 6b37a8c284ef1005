import Crypto
import Hex

/// Deterministic message ids.
///
/// A message a receiver publishes gets an id derived from its cause, the receiver and its position, so
/// handling the same message again (after a crash or a lost race) produces the very same ids.
public enum MessageID {
    /// The id of the `index`-th message that `receiver` of `group` publishes while handling the message `cause`.
    ///
    /// The digest of `cause|group|receiver|topic key|index`, hashed from the parts as they are, without
    /// joining them into one string first (it runs for every message published).
    public static func derived(cause: String, group: String, receiver: String, topic: Topic, index: Int) -> String {
        let number = String(index)
        let length = cause.utf8.count + group.utf8.count + receiver.utf8.count + topic.key.utf8.count + number.utf8.count + 4
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: length) { buffer in
            var offset = 0
            func put(_ part: String, separated: Bool = true) {
                for byte in part.utf8 {
                    buffer[offset] = byte
                    offset += 1
                }
                if separated {
                    buffer[offset] = UInt8(ascii: "|")
                    offset += 1
                }
            }
            put(cause)
            put(group)
            put(receiver)
            put(topic.key)
            put(number, separated: false)
            return hex(SHA256.hash(data: UnsafeRawBufferPointer(buffer)))
        }
    }

    /// A 20-character lowercase hex digest of `text` (80 bits of SHA-256).
    public static func digest(_ text: String) -> String {
        var input = text
        return hex(input.withUTF8 { SHA256.hash(data: UnsafeRawBufferPointer($0)) })
    }

    /// The first 10 bytes of `hash` as 20 lowercase hex digits, written straight into the string.
    private static func hex(_ hash: SHA256.Digest) -> String {
        hash.withUnsafeBytes { bytes in
            String(unsafeUninitializedCapacity: 20) { text in
                for index in 0..<10 {
                    let byte = bytes[index]
                    text[2 * index] = Hex.digit(byte >> 4)
                    text[2 * index + 1] = Hex.digit(byte & 0x0F)
                }
                return 20
            }
        }
    }
}
