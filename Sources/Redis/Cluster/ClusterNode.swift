/// The address of one node of a Redis Cluster, as the cluster announces it.
struct ClusterNode: Sendable, Hashable, CustomStringConvertible {
    /// Host name or IP address.
    let host: String
    /// The node's client port.
    let port: Int

    /// `host:port`.
    var description: String { "\(host):\(port)" }

    /// Parses `host:port` as a `MOVED`/`ASK` reply writes it; an empty host means `fallbackHost` (the node
    /// that answered).
    init?(address: Substring, fallbackHost: String) {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else {
            return nil
        }
        self.init(host: String(address[..<colon]), port: port, fallbackHost: fallbackHost)
    }

    /// A node at `host:port`; an empty or unknown (`?`) host means `fallbackHost`.
    init(host: String, port: Int, fallbackHost: String) {
        self.host = host.isEmpty || host == "?" ? fallbackHost : host
        self.port = port
    }
}
