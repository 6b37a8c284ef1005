@testable import SignalBus
import Testing

/// What a hash snapshot remembers as read, and the end result it gives for the commit, the same for a small
/// hash (looked up by scanning) and one past ``HashSnapshot/scanLimit`` (indexed by name).
@Suite("A hash snapshot's read set and end result")
struct HashSnapshotTests {
    /// A hash `h` with fields `a` = 5, `b` = x, `c` = 1, and `filler` more (`f0` … ) with their numbers.
    private func snapshot(filler: Int) -> HashSnapshot {
        HashSnapshot(key: "h", fields: [("a", "5"), ("b", "x"), ("c", "1")] + (0..<filler).map { ("f\($0)", "\($0)") })
    }

    private static let fillers = [0, HashSnapshot.scanLimit + 5]

    @Test("fields read before being written are pinned once, with their loaded value, sorted; absent ones as absent", arguments: fillers)
    func readsPinned(filler: Int) {
        let hash = snapshot(filler: filler)
        #expect(hash["c"] == "1")
        #expect(hash["a"] == "5")
        #expect(hash["a"] == "5")
        #expect(hash["missing"] == nil)
        #expect(hash.peek("b") == "x")
        #expect(hash.readCount == 3)
        #expect(hash.reads.map(\.0) == ["a", "c", "missing"])
        #expect(hash.reads.map(\.1) == ["5", "1", nil])
    }

    @Test("a field written first is not pinned, nor one only removed; an increment pins what it reads; the end result keeps the first-write order", arguments: fillers)
    func writesAndEndResult(filler: Int) {
        let hash = snapshot(filler: filler)
        hash.apply(.hashSet(key: "h", field: "b", value: "y"))
        #expect(hash["b"] == "y")
        hash.apply(.hashIncrement(key: "h", field: "a", amount: 2))
        hash.apply(.hashMax(key: "h", field: "new", value: 4))
        hash.apply(.hashDelete(key: "h", field: "c"))
        hash.apply(.hashMin(key: "h", field: "a", value: 3))
        #expect(hash.reads.map(\.0) == ["a", "new"])
        #expect(hash.reads.map(\.1) == ["5", nil])
        #expect(hash.changes.set.map(\.0) == ["b", "a", "new"])
        #expect(hash.changes.set.map(\.1) == ["y", "3", "4"])
        #expect(hash.changes.removed == ["c"])
        #expect(hash.exists)
    }

    @Test("after a delete the hash holds what was written since, in that order, and reads of old fields pin nothing", arguments: fillers)
    func deleteThenSet(filler: Int) {
        let hash = snapshot(filler: filler)
        hash.apply(.hashSet(key: "h", field: "b", value: "y"))
        hash.apply(.delete(key: "h"))
        #expect(!hash.exists)
        #expect(hash["a"] == nil)
        hash.apply(.hashSet(key: "h", field: "z", value: "1"))
        hash.apply(.hashSet(key: "h", field: "b", value: "again"))
        #expect(hash.deleted)
        #expect(hash.readCount == 0)
        #expect(hash.changes.set.map(\.0) == ["z", "b"])
        #expect(hash.changes.removed.isEmpty)
        #expect(hash.fields(withPrefix: "") == ["z": "1", "b": "again"])
    }

    @Test("a prefix scan pins the fields it finds, and what the message wrote is not pinned", arguments: fillers)
    func prefixScan(filler: Int) {
        let hash = HashSnapshot(key: "s", fields: [("pairs.v1", "g1"), ("pairs.v2", "g2"), ("other", "o")] + (0..<filler).map { ("f\($0)", "\($0)") })
        hash.apply(.hashSet(key: "s", field: "pairs.v3", value: "g3"))
        #expect(hash.fields(withPrefix: "pairs.") == ["pairs.v1": "g1", "pairs.v2": "g2", "pairs.v3": "g3"])
        #expect(hash.reads.map(\.0) == ["pairs.v1", "pairs.v2"])
        #expect(hash.holdsNonInteger("other"))
        #expect(!hash.holdsNonInteger("f0"))
        #expect(!hash.holdsNonInteger("absent"))
    }
}
