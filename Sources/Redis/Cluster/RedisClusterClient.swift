import Synchronization

/// A client of a Redis Cluster: sends each command to the master serving its key's hash slot.
///
/// It learns the slot map with `CLUSTER SLOTS` from the seeds on first use and keeps one ``RedisClientPool``
/// per node, created when first needed; every blocking call runs on those clients' own threads.
///
/// - `MOVED` updates the slot, retries on the new master and refreshes the whole map before the next command.
/// - `ASK` sends `ASKING` and the command to the named node once, leaving the map alone.
/// - A refused connection, `CLUSTERDOWN` or `TRYAGAIN` (the command did not run) refreshes the map from any
///   reachable node and retries with backoff (50 to 250 ms) for up to `failoverTimeout`, so a failover
///   converges.
/// - A connection lost mid-command, or a timeout, is thrown as is: whether the command ran is unknown, and
///   retrying could apply a write twice.
///
/// Blocking commands (`XREADGROUP … BLOCK`) would hold up every other caller of a node's shared connection:
/// run them on a ``dedicatedClient(forKey:name:)``. Transactions (`MULTI`/`EXEC`) are refused; use a script.
public final class RedisClusterClient: Sendable {
    private let seeds: [ClusterNode]
    /// Credentials and timeouts for every node: the first seed's.
    private let template: RedisConfiguration
    private let name: String
    private let connectionsPerNode: Int
    private let maximumRedirects: Int
    private let failoverTimeout: Duration
    private let state = Mutex(State())

    private struct State {
        var map: ClusterSlotMap?
        var pools: [ClusterNode: RedisClientPool] = [:]
        /// A `MOVED` was seen: refresh the whole map before the next command.
        var isStale = false
    }

    private static let initialBackoff: Duration = .milliseconds(50)
    private static let maximumBackoff: Duration = .milliseconds(250)
    private static let knockInterval: Duration = .seconds(1)

    /// Creates a client; it connects on the first command.
    /// - Parameters:
    ///   - seeds: nodes to ask for the slot map (one is enough). Username, password and timeouts are the
    ///     first seed's, for every node; the database must be 0, the only one a cluster has.
    ///   - name: a prefix for the names of the client threads.
    ///   - connectionsPerNode: how many connections each node gets, used in turn by concurrent callers.
    ///   - maximumRedirects: how many `MOVED`/`ASK` replies one command follows before failing.
    ///   - failoverTimeout: how long a command keeps retrying while its node refuses connections or the
    ///     cluster is down; a failover takes the cluster's node timeout plus about a second.
    /// - Throws: ``RedisError`` with code ``RedisError/Code/configuration`` without seeds or with a database
    ///   other than 0.
    public init(
        seeds: [RedisConfiguration],
        name: String = "redis-cluster",
        connectionsPerNode: Int = 1,
        maximumRedirects: Int = 5,
        failoverTimeout: Duration = .seconds(10)
    ) throws(RedisError) {
        guard let first = seeds.first else {
            throw RedisError(code: .configuration, message: "a Redis Cluster client needs at least one seed node")
        }
        if let seed = seeds.first(where: { $0.database != 0 }) {
            throw RedisError(
                code: .configuration,
                message: "database \(seed.database) asked for \(seed.address): a Redis Cluster has only database 0"
            )
        }
        self.seeds = seeds.map { ClusterNode(host: $0.host, port: $0.port, fallbackHost: $0.host) }
        self.template = first
        self.name = name
        self.connectionsPerNode = connectionsPerNode
        self.maximumRedirects = maximumRedirects
        self.failoverTimeout = failoverTimeout
    }

    /// Sends a command to the node serving its key and returns the reply.
    /// - Throws: ``RedisError``: an error reply, ``RedisError/Code/crossSlot`` (nothing sent) when its keys
    ///   span slots, ``RedisError/Code/cluster`` after too many redirects, or a connection failure.
    @discardableResult
    public func execute(_ command: RedisCommand, timeout: Duration? = nil) async throws(RedisError) -> RedisValue {
        try await deliver(command, to: command.clusterSlot(), timeout: timeout).checked()
    }

    /// Sends commands as one pipeline per node, the nodes concurrently, and returns the replies in the order
    /// of `commands`, error replies as values.
    ///
    /// Commands for one node keep their order; commands for different nodes have none between them.
    /// Redirected replies, and the commands of a node that refused the connection, are retried one by one
    /// as ``execute(_:timeout:)`` would, and their replies put back in place.
    /// - Throws: ``RedisError`` before anything is sent when a command's keys span slots; when a node's
    ///   connection fails mid-pipeline (those commands' outcome is unknown).
    public func pipeline(_ commands: [RedisCommand], timeout: Duration? = nil) async throws(RedisError) -> [RedisValue] {
        var slots: [HashSlot?] = []
        for command in commands { slots.append(try command.clusterSlot()) }
        guard !commands.isEmpty else { return [] }
        let map = try await currentMap()
        var shares: [ClusterNode: [Int]] = [:]
        for (index, slot) in slots.enumerated() { shares[map.node(serving: slot), default: []].append(index) }

        let results = await withTaskGroup(of: (ClusterNode, [Int], Result<[RedisValue], RedisError>).self) { group in
            for (node, indices) in shares {
                let share = indices.map { commands[$0] }
                group.addTask {
                    do throws(RedisError) {
                        return (node, indices, .success(try await self.pool(for: node).client.pipeline(share, timeout: timeout)))
                    } catch {
                        return (node, indices, .failure(error))
                    }
                }
            }
            var results: [(ClusterNode, [Int], Result<[RedisValue], RedisError>)] = []
            for await result in group { results.append(result) }
            return results
        }

        var replies = [RedisValue](repeating: .null, count: commands.count)
        var retries: [(index: Int, previous: (reply: RedisValue, node: ClusterNode)?)] = []
        for (node, indices, result) in results {
            switch result {
            case .success(let values):
                for (index, value) in zip(indices, values) {
                    if ClusterRedirect(value, from: node) != nil {
                        retries.append((index, (value, node)))
                    } else {
                        replies[index] = value
                    }
                }
            case .failure(let error) where error.code == .connect:
                retries += indices.map { ($0, nil) }
            case .failure(let error):
                throw error
            }
        }
        for (index, previous) in retries.sorted(by: { $0.index < $1.index }) {
            replies[index] = try await deliver(commands[index], to: slots[index], timeout: timeout, previous: previous)
        }
        return replies
    }

    /// A new client of its own, connected to the master serving `slot`, for blocking commands. The caller
    /// owns it; it does not follow redirects, so ask again after a `MOVED` error or a failover.
    public func dedicatedClient(forSlot slot: HashSlot, name: String = "redis-dedicated") async throws(RedisError) -> RedisClient {
        let node = try await currentMap().node(serving: slot)
        return RedisClient(configuration: configuration(of: node), name: name)
    }

    /// A new client of its own, connected to the master serving `key`; see ``dedicatedClient(forSlot:name:)``.
    public func dedicatedClient(forKey key: some RedisArgument, name: String = "redis-dedicated") async throws(RedisError) -> RedisClient {
        try await dedicatedClient(forSlot: HashSlot(key: key), name: name)
    }

    // MARK: - Delivery

    /// Sends one command to the node serving `slot`, following redirects and waiting out failovers.
    /// - Parameter previous: a reply already received for this command (in a pipeline), and its sender.
    private func deliver(
        _ command: RedisCommand, to slot: HashSlot?, timeout: Duration?,
        previous: (reply: RedisValue, node: ClusterNode)? = nil
    ) async throws(RedisError) -> RedisValue {
        var outcome = previous
        var target: ClusterNode?
        var asking = false
        var redirects = 0
        var backoff = Self.initialBackoff
        let deadline = ContinuousClock.now + failoverTimeout
        while true {
            if case let (reply, node)? = outcome {
                switch ClusterRedirect(reply, from: node) {
                case nil:
                    return reply
                case .moved(let movedSlot, let owner):
                    state.withLock { state in
                        state.map?.assign(movedSlot, to: owner)
                        state.isStale = true
                    }
                    (target, asking, redirects) = (owner, false, redirects + 1)
                case .ask(let owner):
                    (target, asking, redirects) = (owner, true, redirects + 1)
                case .retry:
                    guard await Self.pause(&backoff, before: deadline) else { return reply }
                    _ = try? await refreshMap()
                    (target, asking) = (nil, false)
                }
                guard redirects <= maximumRedirects else {
                    throw RedisError(
                        code: .cluster,
                        message: "\(command.name) was redirected \(redirects) times, last by \(node): \(reply.errorMessage ?? ""); giving up"
                    )
                }
            }
            var node = target
            do throws(RedisError) {
                let chosen: ClusterNode
                if let target { chosen = target } else { chosen = try await currentMap().node(serving: slot) }
                node = chosen
                outcome = (try await send(command, to: chosen, asking: asking, timeout: timeout), chosen)
            } catch where error.code == .connect {
                // Wait for another node to take the slot over, refreshing the map; knock on the refusing node
                // again every second (it may come back), on new connections: the refused ones would first sit
                // out their reconnect backoff, which grows with every caller's knock.
                let refused = ContinuousClock.now
                if let node { state.withLock { _ = $0.pools.removeValue(forKey: node) } }
                repeat {
                    guard await Self.pause(&backoff, before: deadline) else { throw error }
                    _ = try? await refreshMap(avoiding: node)
                } while ContinuousClock.now - refused < Self.knockInterval && node == state.withLock({ $0.map?.node(serving: slot) })
                (outcome, target, asking) = (nil, nil, false)
            }
        }
    }

    /// Sends one command to `node`; after an `ASK`, preceded by `ASKING` (a script then goes as `EVAL`, since
    /// a `NOSCRIPT` retry would come without the `ASKING`). Error replies are returned, not thrown.
    private func send(_ command: RedisCommand, to node: ClusterNode, asking: Bool, timeout: Duration?) async throws(RedisError) -> RedisValue {
        let client = pool(for: node).client
        guard asking else { return try await client.pipeline([command], timeout: timeout)[0] }
        return try await client.pipeline([RedisCommand("ASKING"), command.evalFallback ?? command], timeout: timeout)[1]
    }

    /// Sleeps `backoff`, then doubles it (up to the maximum); `false` without sleeping when that would pass
    /// `deadline` or the task is cancelled.
    private static func pause(_ backoff: inout Duration, before deadline: ContinuousClock.Instant) async -> Bool {
        guard ContinuousClock.now + backoff < deadline, (try? await Task.sleep(for: backoff)) != nil else { return false }
        backoff = min(backoff * 2, maximumBackoff)
        return true
    }

    // MARK: - Slot map and nodes

    /// The slot map, loaded on first use and refreshed after a `MOVED` (keeping the old one if that fails).
    private func currentMap() async throws(RedisError) -> ClusterSlotMap {
        let (map, isStale) = state.withLock { state in
            defer { state.isStale = false }
            return (state.map, state.isStale)
        }
        guard let map else { return try await refreshMap() }
        guard isStale else { return map }
        return (try? await refreshMap()) ?? map
    }

    /// Loads the slot map from the first node that answers: known nodes and seeds, `failed` last.
    /// - Throws: ``RedisError/Code/connect`` when no node could be reached, ``RedisError/Code/cluster``
    ///   when none gave a usable map (cluster mode disabled, no slots assigned).
    @discardableResult
    private func refreshMap(avoiding failed: ClusterNode? = nil) async throws(RedisError) -> ClusterSlotMap {
        var candidates: [ClusterNode] = []
        for node in state.withLock({ $0.map?.nodes ?? [] }) + seeds where node != failed && !candidates.contains(node) {
            candidates.append(node)
        }
        if let failed { candidates.append(failed) }
        var failures: [String] = []
        var connectionFailed = true
        for node in candidates {
            do throws(RedisError) {
                let reply = try await pool(for: node).client.execute(RedisCommand("CLUSTER", "SLOTS"))
                let map = try ClusterSlotMap(slots: reply, answeredBy: node)
                install(map)
                return map
            } catch {
                failures.append(error.code == .server ? "\(node): \(error.message)" : error.message)
                connectionFailed = connectionFailed && error.isConnectionFailure
            }
        }
        throw RedisError(
            code: connectionFailed ? .connect : .cluster,
            message: "no node gave the cluster's slot map: \(failures.joined(separator: "; "))"
        )
    }

    /// Uses `map` from now on, and drops the connections of nodes neither it nor the seeds name.
    private func install(_ map: ClusterSlotMap) {
        let wanted = Set(map.nodes + seeds)
        state.withLock { state in
            state.map = map
            state.pools = state.pools.filter { wanted.contains($0.key) }
        }
    }

    /// The connections to `node`, created on first use.
    private func pool(for node: ClusterNode) -> RedisClientPool {
        state.withLock { state in
            if let pool = state.pools[node] { return pool }
            let pool = RedisClientPool(configuration: configuration(of: node), size: connectionsPerNode, name: "\(name)-\(node.port)")
            state.pools[node] = pool
            return pool
        }
    }

    /// The node serving `slot` by the slot map in hand, if one is loaded and no `MOVED` has made it stale;
    /// `nil` otherwise (then only ``pipeline(_:timeout:)`` knows where to go).
    func cachedNode(serving slot: HashSlot?) -> ClusterNode? {
        state.withLock { state in
            guard let map = state.map, !state.isStale else { return nil }
            return map.node(serving: slot)
        }
    }

    /// Where to connect to reach `node`, with the credentials and timeouts of the first seed.
    ///
    /// Every command first checks that the node has not closed the connection (``RedisConfiguration/idlePeerCheck``
    /// zero): a command sent to a master that just died would be lost with its outcome unknown, where a
    /// refused reconnection is known not to have run it and waits out the failover.
    func configuration(of node: ClusterNode) -> RedisConfiguration {
        var configuration = template
        configuration.host = node.host
        configuration.port = node.port
        configuration.idlePeerCheck = .zero
        return configuration
    }
}
