/// What a cluster node's error reply asks the client to do instead of giving up.
enum ClusterRedirect: Sendable {
    /// `MOVED slot host:port`: the slot is served by another node from now on.
    case moved(HashSlot, ClusterNode)
    /// `ASK slot host:port`: this one command goes to another node, after `ASKING` (a slot being migrated).
    case ask(ClusterNode)
    /// `CLUSTERDOWN` or `TRYAGAIN`: the command did not run; the cluster may be failing over, try again soon.
    case retry

    /// Reads a reply from `node`; `nil` when it is not a redirection (a value or any other error).
    init?(_ reply: RedisValue, from node: ClusterNode) {
        guard let message = reply.errorMessage else { return nil }
        if message.hasPrefix("CLUSTERDOWN ") || message.hasPrefix("TRYAGAIN ") {
            self = .retry
            return
        }
        let parts = message.split(separator: " ")
        guard parts.count == 3, let number = Int(parts[1]), (0..<HashSlot.count).contains(number),
              let target = ClusterNode(address: parts[2], fallbackHost: node.host)
        else { return nil }
        switch parts[0] {
        case "MOVED": self = .moved(HashSlot(number), target)
        case "ASK": self = .ask(target)
        default: return nil
        }
    }
}
