/// Where chain traces live, and which chains are traced.
///
/// A traced chain keeps one hash, `trace:<trace id>` (on a partitioned cluster `trace:{<partition tag>}:<trace
/// id>`, beside its streams), with a field `<group> <message id>` per delivery recorded; it expires
/// `trace.seconds` after its last write. A chain's root is indexed under its goal in `traces:{<goal id>}`.
public enum TraceKeys {
    /// The hash holding the trace entries of the chain `trace`.
    public static func chain(_ trace: String, partition: Partition?) -> String {
        guard let partition else { return "trace:\(trace)" }
        return "trace:{\(partition.tag)}:\(trace)"
    }

    /// The field of one delivery's entry in a chain's hash.
    public static func field(group: String, message: String) -> String {
        "\(group) \(message)"
    }

    /// Whether the chain rooted at `trace` is in the sample: a deterministic function of the trace id, so
    /// every process that asks agrees without asking each other.
    /// - Parameter ratio: the share of chains traced, from 0 (none) to 1 (all).
    public static func sampled(_ trace: String, ratio: Double) -> Bool {
        if ratio >= 1 { return true }
        if ratio <= 0 { return false }
        // FNV-1a, 64 bits: spread well enough for a share, and the same on every platform.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in trace.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return Double(hash >> 11) / Double(UInt64(1) << 53) < ratio
    }
}
