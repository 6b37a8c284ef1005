/// Which master serves each of the 16384 hash slots, as `CLUSTER SLOTS` reported it, plus the replicas
/// (asked for a fresh map when masters are unreachable).
struct ClusterSlotMap: Sendable {
    /// The masters, each once.
    private(set) var masters: [ClusterNode] = []
    /// The replicas, each once.
    private(set) var replicas: [ClusterNode] = []
    /// For each slot, the index of its master in `masters`, or `unassigned`.
    private var owners = [UInt16](repeating: unassigned, count: HashSlot.count)

    private static let unassigned = UInt16.max

    /// Reads a `CLUSTER SLOTS` reply: `[[first, last, [host, port, id, …], replica…], …]`.
    /// - Parameter node: the node that answered; its host stands in for a node announced without one.
    /// - Throws: ``RedisError/Code/cluster`` when the reply is not a slot table or assigns no slot.
    init(slots reply: RedisValue, answeredBy node: ClusterNode) throws(RedisError) {
        func malformed(_ why: String) -> RedisError {
            RedisError(code: .cluster, message: "CLUSTER SLOTS from \(node) \(why)")
        }
        guard let ranges = reply.array else { throw malformed("is not an array") }
        for range in ranges {
            guard let fields = range.array, fields.count >= 3, let first = fields[0].int, let last = fields[1].int,
                  0 <= first, first <= last, last < HashSlot.count
            else { throw malformed("has a malformed slot range") }
            var servers: [ClusterNode] = []
            for server in fields[2...] {
                guard let parts = server.array, parts.count >= 2, let host = parts[0].string, let port = parts[1].int else {
                    throw malformed("has a malformed node entry")
                }
                servers.append(ClusterNode(host: host, port: port, fallbackHost: node.host))
            }
            let master = index(of: servers[0])
            for slot in first...last { owners[slot] = master }
            for replica in servers.dropFirst() where !replicas.contains(replica) { replicas.append(replica) }
        }
        guard !masters.isEmpty else { throw malformed("assigns no slot: the cluster is not set up") }
    }

    /// The master serving `slot`, or `nil` when no node serves it.
    func master(of slot: HashSlot) -> ClusterNode? {
        let owner = owners[slot.number]
        return owner == Self.unassigned ? nil : masters[Int(owner)]
    }

    /// The master serving `slot`; for keyless commands (`nil`) and unserved slots, the first master (which
    /// answers or redirects).
    func node(serving slot: HashSlot?) -> ClusterNode {
        slot.flatMap(master(of:)) ?? masters[0]
    }

    /// Records that `node` now serves `slot` (after a `MOVED` redirect).
    mutating func assign(_ slot: HashSlot, to node: ClusterNode) {
        owners[slot.number] = index(of: node)
    }

    /// Every node the map knows, masters first.
    var nodes: [ClusterNode] { masters + replicas }

    /// The index of `node` in `masters`, appending it when it is new.
    private mutating func index(of node: ClusterNode) -> UInt16 {
        if let known = masters.firstIndex(of: node) { return UInt16(known) }
        masters.append(node)
        return UInt16(masters.count - 1)
    }
}
