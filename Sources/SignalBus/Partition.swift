import Redis

/// One partition of the signal and task streams on a Redis Cluster: its number among all partitions, and
/// the hash tag that every key of the partition carries (`signal:goal.ended:{p3-12}`).
public struct Partition: Sendable, Hashable, CustomStringConvertible {
    /// The partition's number, from 0.
    public let index: Int
    /// How many partitions there are.
    public let count: Int
    /// `p<index>-<k>`, with the smallest `k` that puts the tag's slot in the `index`-th of `count` equal
    /// ranges of the 16384 slots. Masters that hold equal ranges of slots (as `redis-cli --cluster create`
    /// assigns them) then hold equal shares of the partitions.
    public let tag: String

    /// Partition `index` of `count`.
    public init(_ index: Int, of count: Int) {
        precondition(count > 0 && (0..<count).contains(index), "partition \(index) of \(count)")
        self.index = index
        self.count = count
        let range = (index * HashSlot.count / count)..<((index + 1) * HashSlot.count / count)
        var suffix = 0
        while !range.contains(HashSlot(key: "p\(index)-\(suffix)").number) { suffix += 1 }
        tag = "p\(index)-\(suffix)"
    }

    /// Every partition of `count`, in order.
    public static func all(_ count: Int) -> [Partition] {
        (0..<count).map { Partition($0, of: count) }
    }

    public var description: String { tag }
}
