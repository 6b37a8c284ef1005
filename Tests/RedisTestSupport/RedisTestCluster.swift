import Foundation
import Redis

/// A throwaway Redis Cluster for one test: 3 masters and 3 replicas, each a `redis-server` on free loopback
/// ports with a temporary directory of its own, joined by `redis-cli --cluster create`.
///
/// The node timeout is 2 s, so a killed master's replica takes over within a few seconds. A missing
/// `redis-server` or `redis-cli` is a failure, never a skip.
public final class RedisTestCluster: Sendable {
    /// The masters' ports, as the cluster was created (a failover changes who is master).
    public let masterPorts: [Int]
    /// The replicas' ports: `replicaPorts[i]` replicates `masterPorts[i]`.
    public let replicaPorts: [Int]
    /// Seed configurations for clients: every node.
    public var seeds: [RedisConfiguration] {
        (masterPorts + replicaPorts).map { RedisConfiguration(host: "127.0.0.1", port: $0) }
    }
    /// `redis://127.0.0.1:<port>,127.0.0.1:<port>,…` listing the masters.
    public var url: String { "redis://" + masterPorts.map { "127.0.0.1:\($0)" }.joined(separator: ",") }

    private let processes: [Int: ChildProcess]
    private let directory: URL

    /// The node timeout the cluster runs with.
    public static let nodeTimeout: Duration = .seconds(2)
    private static let nodeCount = 6

    private init(masterPorts: [Int], replicaPorts: [Int], processes: [Int: ChildProcess], directory: URL) {
        self.masterPorts = masterPorts
        self.replicaPorts = replicaPorts
        self.processes = processes
        self.directory = directory
    }

    /// Starts six nodes, creates the cluster and waits until every node reports `cluster_state:ok` with all
    /// 16384 slots assigned and every replica is in sync with its master and receiving its writes.
    public static func start() async throws -> RedisTestCluster {
        let server = try RedisTestServer.locateRedisServer()
        let cli = try locateRedisCLI(next: server)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("redis-cluster-\(UUID().uuidString)")
        var processes: [Int: ChildProcess] = [:]
        do {
            for _ in 0..<nodeCount {
                let (port, process) = try await startNode(server, in: directory, avoiding: Set(processes.keys))
                processes[port] = process
            }
            let ports = processes.keys.sorted()
            let create = try ChildProcess(
                executable: cli,
                arguments: ["--cluster", "create"] + ports.map { "127.0.0.1:\($0)" } + ["--cluster-replicas", "1", "--cluster-yes"],
                logPath: directory.appendingPathComponent("create.log").path
            )
            let status = await create.wait(timeout: .seconds(30))
            guard status == 0 else {
                let log = (try? String(contentsOf: directory.appendingPathComponent("create.log"), encoding: .utf8)) ?? ""
                throw TestServerError(message: "redis-cli --cluster create failed (status \(status.map(String.init) ?? "none")):\n\(log)")
            }
            let (masters, replicas) = try await waitUntilHealthy(ports)
            return RedisTestCluster(masterPorts: masters, replicaPorts: replicas, processes: processes, directory: directory)
        } catch {
            for process in processes.values { process.killNow() }
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
    }

    /// Kills every node (no data is kept anyway) and removes their directories.
    public func stop() {
        for process in processes.values { process.killNow() }
        try? FileManager.default.removeItem(at: directory)
    }

    /// Kills one node abruptly (SIGKILL), as a crash would.
    public func kill(port: Int) {
        processes[port]?.killNow()
    }

    /// A new client of one node, not of the cluster.
    public func client(port: Int, name: String = "test-node") -> RedisClient {
        RedisClient(configuration: RedisConfiguration(host: "127.0.0.1", port: port), name: name)
    }

    /// A new cluster client seeded with every node.
    public func clusterClient(name: String = "test-cluster") throws -> RedisClusterClient {
        try RedisClusterClient(seeds: seeds, name: name)
    }

    /// The keys matching `pattern` on every master, sorted.
    public func allKeys(matching pattern: String) async throws -> [String] {
        var keys: [String] = []
        for port in masterPorts {
            keys += try await client(port: port).execute("KEYS", pattern).array?.compactMap(\.string) ?? []
        }
        return keys.sorted()
    }

    /// The node's cluster id (`CLUSTER MYID`).
    public func nodeID(port: Int) async throws -> String {
        try await client(port: port).execute("CLUSTER", "MYID").string ?? ""
    }

    /// For each of the 16384 slots, the port of the master serving it (0 when none), as `CLUSTER SLOTS` on
    /// the node at `port` says.
    public func slotOwners(askingPort port: Int) async throws -> [Int] {
        var owners = [Int](repeating: 0, count: 16384)
        for range in try await client(port: port).execute("CLUSTER", "SLOTS").array ?? [] {
            guard let fields = range.array, fields.count >= 3, let first = fields[0].int, let last = fields[1].int,
                  let owner = fields[2].array?[1].int
            else { continue }
            for slot in first...last { owners[slot] = owner }
        }
        return owners
    }

    // MARK: - Start-up

    private static func startNode(_ server: String, in root: URL, avoiding taken: Set<Int>) async throws -> (Int, ChildProcess) {
        var lastError: (any Error)?
        for _ in 0..<5 {
            let port = try FreePort.find()
            let busPort = try FreePort.find()
            guard port != busPort, !taken.contains(port), !taken.contains(busPort) else { continue }
            let directory = root.appendingPathComponent(String(port))
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let process = try ChildProcess(executable: server, arguments: [
                "--port", String(port), "--cluster-port", String(busPort), "--bind", "127.0.0.1",
                "--cluster-enabled", "yes", "--cluster-config-file", directory.appendingPathComponent("nodes-\(port).conf").path,
                "--cluster-node-timeout", String(nodeTimeout.milliseconds), "--dir", directory.path,
                "--save", "", "--appendonly", "no", "--repl-diskless-sync-delay", "0",
                "--daemonize", "no", "--loglevel", "warning", "--logfile", "",
            ], logPath: directory.appendingPathComponent("redis.log").path)
            do {
                try await waitForPing(port: port, process: process)
                return (port, process)
            } catch {
                lastError = error
                process.killNow()
            }
        }
        throw lastError ?? TestServerError(message: "no free port pair for a cluster node")
    }

    private static func waitForPing(port: Int, process: ChildProcess) async throws {
        let client = RedisClient(configuration: RedisConfiguration(host: "127.0.0.1", port: port, connectTimeout: .milliseconds(200)))
        for _ in 0..<200 {
            guard process.isRunning else {
                throw TestServerError(message: "redis-server (cluster node) exited at start (port \(port) may be taken)")
            }
            if (try? await client.execute("PING")) == .status("PONG") {
                // A parallel test's node may answer on a port this one failed to bind: this one must still run (a
                // node that cannot bind exits at once).
                try await Task.sleep(for: .milliseconds(50))
                guard process.isRunning else { throw TestServerError(message: "another process answers on port \(port)") }
                return
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TestServerError(message: "cluster node on port \(port) did not answer PING within 2 s")
    }

    /// Waits until the cluster is whole; returns the masters' ports and their replicas', aligned.
    private static func waitUntilHealthy(_ ports: [Int]) async throws -> (masters: [Int], replicas: [Int]) {
        let clients = ports.map { RedisClient(configuration: RedisConfiguration(host: "127.0.0.1", port: $0), name: "cluster-probe") }
        var masterOf: [Int: Int] = [:]
        try await eventually("a healthy cluster on ports \(ports)", within: .seconds(30)) {
            masterOf = [:]
            for (port, client) in zip(ports, clients) {
                let info = try await client.execute("CLUSTER", "INFO").string ?? ""
                guard info.contains("cluster_state:ok"), info.contains("cluster_slots_assigned:16384"),
                      info.contains("cluster_known_nodes:\(nodeCount)")
                else { return false }
                let role = try await client.execute("ROLE").array ?? []
                if role.first?.string == "slave" {
                    guard role.count >= 4, role[3].string == "connected", let master = role[2].int else { return false }
                    masterOf[port] = master
                }
            }
            return masterOf.count == nodeCount / 2 && Set(masterOf.values).count == nodeCount / 2
        }
        // A master streams writes to its replica only once the replica has acknowledged the initial sync;
        // until then a failover would lose them. A write each master's replica acknowledges (`WAIT`) shows
        // the stream flows.
        var owners = [Int](repeating: 0, count: HashSlot.count)
        for range in try await clients[0].execute("CLUSTER", "SLOTS").array ?? [] {
            guard let fields = range.array, fields.count >= 3, let first = fields[0].int, let last = fields[1].int,
                  let owner = fields[2].array?[1].int else { continue }
            for slot in first...last { owners[slot] = owner }
        }
        for (port, client) in zip(ports, clients) where masterOf.values.contains(port) {
            guard let slot = owners.firstIndex(of: port) else { continue }
            try await client.execute("SET", "{\(HashSlot(slot).tag)}:replication-probe", "1")
            try await eventually("the replica of \(port) to acknowledge a write", within: .seconds(10)) {
                try await client.execute("WAIT", 1, 1000).int == 1
            }
            // Tests count keys and commands: leave neither behind.
            try await client.execute("DEL", "{\(HashSlot(slot).tag)}:replication-probe")
            try await client.execute("CONFIG", "RESETSTAT")
        }
        let pairs = masterOf.map { (master: $0.value, replica: $0.key) }.sorted { $0.master < $1.master }
        return (pairs.map(\.master), pairs.map(\.replica))
    }

    private static func locateRedisCLI(next server: String) throws -> String {
        var candidates = [URL(fileURLWithPath: server).deletingLastPathComponent().appendingPathComponent("redis-cli").path]
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        candidates += path.split(separator: ":").map { "\($0)/redis-cli" }
        if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) { return found }
        throw TestServerError(
            message: "redis-cli is not installed next to \(server) or on PATH: the cluster tests need it to create the cluster (apt-get install redis-tools)."
        )
    }
}

/// Runs `body` with a fresh cluster of its own, and removes the cluster afterwards, even when `body` throws.
public func withRedisCluster(_ body: (RedisTestCluster) async throws -> Void) async throws {
    let cluster = try await RedisTestCluster.start()
    defer { cluster.stop() }
    try await body(cluster)
}
