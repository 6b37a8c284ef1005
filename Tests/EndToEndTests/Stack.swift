import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import PusherWebhook
import Redis
import RedisTestSupport
import SignalBus
import Testing

/// The real executables (gateway and the five receivers) started against a private redis-server, or a
/// private Redis Cluster, driven over HTTP as Pusher would.
final class Stack: @unchecked Sendable {
    // @unchecked Sendable: a stack belongs to the one test that started it, which changes it (launching
    // services, picking ports) from one task at a time.
    static let services = ["gateway", "karaoke", "goals", "sessions", "escrow", "tracking"]
    static let appKey = "e2e-key"
    static let appSecret = "e2e-secret"

    /// The stack's redis-server; a cluster stack has none (see ``cluster``).
    var redis: RedisTestServer { server! }
    private var server: RedisTestServer?
    /// The cluster a cluster stack runs on; the test that started it stops it.
    private(set) var cluster: RedisTestCluster?
    private var redisArguments: [String] = []
    private(set) var gatewayPort: Int
    let logDirectory: String
    private(set) var processes: [String: ChildProcess] = [:]
    private(set) var environment: [String: String] = [:]
    private(set) var binaries = ""
    /// Each receiver's health and metrics port.
    private(set) var metricsPorts: [String: Int] = [:]

    private init(server: RedisTestServer?, cluster: RedisTestCluster?, gatewayPort: Int, logDirectory: String) {
        self.server = server
        self.cluster = cluster
        self.gatewayPort = gatewayPort
        self.logDirectory = logDirectory
    }

    /// Starts redis-server (unless `cluster` is given: then the services use it) and the six services, and
    /// waits until the gateway is ready and every consumer group exists.
    static func start(
        extraEnvironment: [String: String] = [:], redisArguments: [String] = [], cluster: RedisTestCluster? = nil
    ) async throws -> Stack {
        let binaries = try binaryDirectory()
        let server = cluster == nil ? try await RedisTestServer.start(extraArguments: redisArguments) : nil
        let logs = FileManager.default.temporaryDirectory.appendingPathComponent("goal-signals-e2e-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        let stack = Stack(server: server, cluster: cluster, gatewayPort: try FreePort.find(), logDirectory: logs)
        stack.redisArguments = redisArguments
        var environment = ProcessInfo.processInfo.environment
        environment["REDIS_URL"] = server?.url ?? cluster!.url
        environment["HTTP_HOST"] = "127.0.0.1"
        environment["HTTP_PORT"] = String(stack.gatewayPort)
        environment["PUSHER_APP_KEY"] = appKey
        environment["PUSHER_APP_SECRET"] = appSecret
        environment["PUSHER_APP_ID"] = nil
        environment["CONFIG_FILE"] = repositoryRoot + "/Config/local.json"
        environment["BUS_BLOCK_MS"] = "200"
        environment["LOG_LEVEL"] = "debug"
        environment["METRICS_PORT"] = nil
        environment.merge(extraEnvironment) { $1 }
        stack.environment = environment
        stack.binaries = binaries
        for service in services { try stack.launch(service) }
        try await stack.waitUntilReady()
        return stack
    }

    /// Starts (or starts again) one service; its output is appended to its log.
    /// - Parameter name: the replica's name in ``processes`` (default: the service's), e.g. `goals#2` for a
    ///   second replica.
    func launch(_ service: String, as name: String? = nil) throws {
        let name = name ?? service
        var environment = environment
        if service != "gateway" {
            let port = try metricsPorts[name] ?? FreePort.find()
            metricsPorts[name] = port
            environment["METRICS_PORT"] = String(port)
        }
        processes[name] = try ChildProcess(
            executable: "\(binaries)/\(service)", arguments: [], environment: environment, logPath: "\(logDirectory)/\(name).log"
        )
    }

    /// Runs `goalctl` with `arguments` against this stack and returns its exit status and output.
    func goalctl(_ arguments: [String], timeout: Duration = .seconds(120)) async throws -> (status: Int32?, output: String) {
        let log = "\(logDirectory)/goalctl-\(UUID().uuidString).log"
        let process = try ChildProcess(executable: "\(binaries)/goalctl", arguments: arguments, environment: environment, logPath: log)
        let status = await process.wait(timeout: timeout)
        if status == nil { process.killNow() }
        return (status, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }

    /// Kills redis-server (SIGKILL) and starts it again on the same port with the same options (so with
    /// AOF it reloads what it had written).
    func restartRedis() async throws {
        redis.kill()
        server = try await RedisTestServer.start(port: redis.port, extraArguments: redisArguments)
    }

    /// Posts a webhook until the gateway answers 2xx, as Pusher retries; returns how many answers were 503.
    @discardableResult
    func postUntilAccepted(_ body: [UInt8], timeout: Duration = .seconds(60)) async throws -> Int {
        var unavailable = 0
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let (status, answer) = (try? await post(body)) ?? (0, "")
            if (200..<300).contains(status) { return unavailable }
            guard status == 503 || status == 0 else { throw TestServerError(message: "webhook answered \(status): \(answer)") }
            unavailable += 1
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestServerError(message: "the gateway did not accept the webhook within \(timeout)")
    }

    /// Runs `body` with a started stack and stops everything afterwards, also when `body` throws.
    static func with(
        extraEnvironment: [String: String] = [:], redisArguments: [String] = [], cluster: RedisTestCluster? = nil,
        _ body: (Stack) async throws -> Void
    ) async throws {
        let stack = try await start(extraEnvironment: extraEnvironment, redisArguments: redisArguments, cluster: cluster)
        do {
            try await body(stack)
            await stack.stop()
        } catch {
            await stack.stop()
            throw error
        }
    }

    /// Sends SIGTERM to every service and returns their exit statuses; stops the stack's redis-server.
    @discardableResult
    func stop() async -> [String: Int32] {
        // One SIGTERM each (a second one would force an immediate exit), then wait for all of them.
        for process in processes.values { process.send(SIGTERM) }
        var statuses: [String: Int32] = [:]
        for (name, process) in processes {
            if let status = await process.wait(timeout: .seconds(15)) {
                statuses[name] = status
            } else {
                process.killNow()
                statuses[name] = -1
            }
        }
        await server?.stop()
        return statuses
    }

    /// A client of the stack's redis-server.
    func client() -> RedisClient { redis.client(name: "e2e") }

    /// A runner for the stack's Redis: a client of its server, or a cluster client of its cluster.
    func runner() throws -> any RedisCommandRunner {
        try cluster?.clusterClient(name: "e2e") ?? redis.client(name: "e2e")
    }

    /// Posts a webhook body, signed unless `signed` is false; returns status and body.
    /// - Parameter session: the session to send with; the shared one keeps few connections to a host.
    func post(_ body: [UInt8], signed: Bool = true, signature: String? = nil, session: URLSession = .shared) async throws -> (Int, String) {
        let answer = try await postAnswer(body, signed: signed, signature: signature, session: session)
        return (answer.status, answer.body)
    }

    /// Posts a webhook body, signed unless `signed` is false; returns status, body and `Retry-After`.
    func postAnswer(
        _ body: [UInt8], signed: Bool = true, signature: String? = nil, session: URLSession = .shared
    ) async throws -> (status: Int, body: String, retryAfter: String?) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(gatewayPort)/notify/pusher")!)
        request.httpMethod = "POST"
        request.httpBody = Data(body)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        if signed {
            request.setValue(Self.appKey, forHTTPHeaderField: "X-Pusher-Key")
            request.setValue(signature ?? WebhookSignature(appKey: Self.appKey, appSecret: Self.appSecret).signature(for: body), forHTTPHeaderField: "X-Pusher-Signature")
        }
        let (data, response) = try await session.data(for: request)
        let http = response as? HTTPURLResponse
        return (http?.statusCode ?? 0, String(decoding: data, as: UTF8.self), http?.value(forHTTPHeaderField: "Retry-After"))
    }

    /// GETs a path of the gateway, or of a receiver's metrics listener; returns status and body.
    func get(_ path: String, from service: String = "gateway") async throws -> (Int, String) {
        let port = service == "gateway" ? gatewayPort : metricsPorts[service]!
        let (data, response) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    /// A webhook body with one event on a goal channel.
    static func body(_ name: String, goal: String, atSeconds: Int64, user: String = "viewer-1") -> [UInt8] {
        Array(#"{"time_ms":\#(atSeconds * 1000),"events":[{"name":"\#(name)","channel":"presence-enc-goal@\#(goal)","user_id":"\#(user)"}]}"#.utf8)
    }

    /// Polls `condition` until it holds or `timeout` passes; on time-out the services' logs are attached.
    func waitFor(_ what: String, timeout: Duration = .seconds(20), _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestServerError(message: "timed out waiting for \(what); logs in \(logDirectory):\n\(tailOfLogs())")
    }

    private func waitUntilReady() async throws {
        // The gateway's port, found free, can be taken by a parallel test before the gateway binds it; such
        // a gateway exits, and starts again on another port.
        var gatewayAttempts = 0
        try await waitFor("the gateway to be ready", timeout: .seconds(30)) {
            if !processes["gateway"]!.isRunning {
                gatewayAttempts += 1
                guard gatewayAttempts < 5 else { throw TestServerError(message: "the gateway keeps exiting at start:\n\(tailOfLogs())") }
                gatewayPort = try FreePort.find()
                environment["HTTP_PORT"] = String(gatewayPort)
                try launch("gateway")
                return false
            }
            return (try? await get("/ready").0) == 200
        }
        for service in Self.services where service != "gateway" {
            try await waitUntilRunning(service)
        }
        // The receivers create their consumer groups on start; wait until every group exists.
        let client = try runner()
        // On a cluster, the first partition's streams stand for all: each partition's worker creates its own.
        let partitions = Int(environment["BUS_PARTITIONS"] ?? "") ?? 3
        let suffix = cluster == nil ? "" : ":{\(Partition(0, of: partitions).tag)}"
        try await waitFor("every consumer group to exist") {
            var groups = Set<String>()
            for key in ["signal:channel_vacated", "signal:goal.ended", "signal:goal.progressed"].map({ $0 + suffix }) {
                for info in (try? await client.execute("XINFO", "GROUPS", key))?.array ?? [] {
                    if let name = info.array?[1].string { groups.insert(name) }
                }
            }
            return groups.isSuperset(of: ["karaoke", "goals", "sessions", "escrow", "tracking"])
        }
    }

    /// Waits until the receiver replica `name` (of `service`, the same by default) answers /health: its
    /// signal handling and consumer are running. A free port found for its metrics listener can be taken by
    /// a parallel test before the receiver binds it; such a receiver exits, and starts again on another.
    func waitUntilRunning(_ name: String, service: String? = nil) async throws {
        var attempts = 0
        try await waitFor("\(name) to answer /health", timeout: .seconds(30)) {
            if !processes[name]!.isRunning {
                attempts += 1
                guard attempts < 5 else { throw TestServerError(message: "\(name) keeps exiting at start:\n\(tailOfLogs())") }
                metricsPorts[name] = nil
                try launch(service ?? name, as: name)
                return false
            }
            guard (try? await get("/health", from: name).0) == 200 else { return false }
            // A parallel test's process may answer on the port this one failed to bind: it must still run.
            try await Task.sleep(for: .milliseconds(200))
            return processes[name]!.isRunning
        }
    }

    private func tailOfLogs() -> String {
        Self.services.map { service in
            let text = (try? String(contentsOfFile: "\(logDirectory)/\(service).log", encoding: .utf8)) ?? ""
            return "--- \(service)\n" + text.split(separator: "\n").suffix(15).joined(separator: "\n")
        }.joined(separator: "\n")
    }

    static let repositoryRoot: String = {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }()

    private static func binaryDirectory() throws -> String {
        let directory = ProcessInfo.processInfo.environment["GOAL_SIGNALS_BIN"] ?? repositoryRoot + "/.build/debug"
        for service in services where !FileManager.default.isExecutableFile(atPath: "\(directory)/\(service)") {
            throw TestServerError(message: "\(directory)/\(service) is missing: build the executables first (`make test` runs `swift build` before the tests)")
        }
        return directory
    }
}
