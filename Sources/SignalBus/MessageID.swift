import Crypto

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
        let hash = SHA256.hash(data: Array(text.utf8))
        var hex = ""
        hex.reserveCapacity(20)
        for byte in hash.prefix(10) {
            hex += byte < 16 ? "0" + String(byte, radix: 16) : String(byte, radix: 16)
        }
        return hex
    }
}
