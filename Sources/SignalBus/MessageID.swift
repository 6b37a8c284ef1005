import Crypto
import Hex

/// Deterministic message ids.
///
/// A message a receiver publishes gets an id derived from its cause, the receiver and its position, so
/// handling the same message again (after a crash or a lost race) produces the very same ids.
public enum MessageID {
    /// The id of the `index`-th message that `receiver` of `group` publishes while handling the message `cause`.
    public static func derived(cause: String, group: String, receiver: String, topic: Topic, index: Int) -> String {
        digest("\(cause)|\(group)|\(receiver)|\(topic.key)|\(index)")
    }

    /// A 20-character lowercase hex digest of `text` (80 bits of SHA-256).
    public static func digest(_ text: String) -> String {
        var input = text
        let hash = input.withUTF8 { SHA256.hash(data: UnsafeRawBufferPointer($0)) }
        return Hex.string(hash.prefix(10))
    }
}
