import Redis
import RedisTestSupport
import Testing

@Suite("Connections")
struct RedisConnectionTests {
    @Test("connection refused names host and port")
    func connectionRefused() async throws {
        try await FreePort.withRefusingPort { port in
            let client = RedisClient(configuration: RedisConfiguration(host: "127.0.0.1", port: port))
            let error = await #expect(throws: RedisError.self) { try await client.execute("PING") }
            #expect(error?.code == .connect)
            #expect(error?.message == "connection refused to 127.0.0.1:\(port)")
        }
    }

    @Test("after the server is killed and restarted the client works again")
    func reconnectsAfterRestart() async throws {
        try await withRedisServer { server in
            let client = server.client()
            try await client.execute("SET", "before", "1")
            server.kill()
            await #expect(throws: RedisError.self) { try await client.execute("PING") }
            try await withServerRestarted(on: server.port) { () async throws in
                #expect(try await client.execute("PING") == .status("PONG"))
                #expect(try await client.execute("GET", "before") == .null)
            }
        }
    }

    @Test("a restart while the client is idle is noticed before the next command")
    func idleRestartIsTransparent() async throws {
        try await withRedisServer { server in
            let client = server.client()
            #expect(try await client.execute("PING") == .status("PONG"))
            let idleSince = ContinuousClock.now
            await server.stop()
            try await withServerRestarted(on: server.port) { () async throws in
                // Idle: no reply for the idle check's time (a default configuration's).
                try await Task.sleep(until: idleSince + RedisConfiguration().idlePeerCheck + .milliseconds(50))
                #expect(try await client.execute("SET", "after", "1") == .status("OK"))
            }
        }
    }

    @Test("a restart soon after a reply is reported by the next command, and the one after reconnects")
    func busyRestartIsReported() async throws {
        try await withRedisServer { server in
            var configuration = server.configuration
            configuration.idlePeerCheck = .seconds(600)
            let client = RedisClient(configuration: configuration)
            #expect(try await client.execute("PING") == .status("PONG"))
            await server.stop()
            try await withServerRestarted(on: server.port) { () async throws in
                // Not idle long enough to be checked: the command goes out on the closed connection.
                let error = await #expect(throws: RedisError.self) { try await client.execute("SET", "lost", "1") }
                #expect(error?.code == .closed || error?.code == .io)
                #expect(try await client.execute("SET", "after", "1") == .status("OK"))
            }
        }
    }

    @Test("after a blocking read, commands keep its longer timeout; a command's own timeout is exact")
    func blockingReadTimeoutIsKept() async throws {
        try await withRedisServer { server in
            var configuration = server.configuration
            configuration.commandTimeout = .milliseconds(200)
            let client = RedisClient(configuration: configuration)
            let blocked = try await client.execute(RedisCommand("BLPOP", "nothing", 1), timeout: .seconds(3))
            #expect(blocked == .null)
            // Without a timeout of its own, a command now waits as long as the blocking read could.
            let kept = try await client.execute("BLPOP", "nothing", 1)
            #expect(kept == .null)
            let error = await #expect(throws: RedisError.self) {
                try await client.execute(RedisCommand("BLPOP", "nothing", 2), timeout: .milliseconds(300))
            }
            #expect(error?.code == .timeout)
            #expect(error?.message == "timeout after 300 ms waiting for 127.0.0.1:\(server.port) during BLPOP")
            // A new connection starts from the command timeout again.
            let fresh = RedisClient(configuration: configuration)
            let late = await #expect(throws: RedisError.self) { try await fresh.execute("BLPOP", "nothing", 1) }
            #expect(late?.message == "timeout after 200 ms waiting for 127.0.0.1:\(server.port) during BLPOP")
        }
    }

    @Test("a command timeout says how long it waited")
    func commandTimeout() async throws {
        try await withRedisServer { server in
            var configuration = server.configuration
            configuration.commandTimeout = .milliseconds(200)
            let client = RedisClient(configuration: configuration)
            let error = await #expect(throws: RedisError.self) { try await client.execute("BLPOP", "nothing", 2) }
            #expect(error?.code == .timeout)
            #expect(error?.message == "timeout after 200 ms waiting for 127.0.0.1:\(server.port) during BLPOP")
            let pong = try await client.execute("PING")
            #expect(pong == .status("PONG"))
        }
    }

    @Test("AUTH with an ACL user and SELECT from the URL")
    func authAndSelect() async throws {
        try await withRedisServer { server in
            let admin = server.client()
            try await admin.execute("ACL", "SETUSER", "svc", "on", ">s3cret", "~*", "+@all")
            try await admin.execute("SELECT", 3)
            try await admin.execute("SET", "in-db-3", "yes")
            let client = RedisClient(configuration: try RedisConfiguration(url: "redis://svc:s3cret@127.0.0.1:\(server.port)/3"))
            #expect(try await client.execute("GET", "in-db-3") == .bulk(Array("yes".utf8)))
            #expect(try await client.execute("ACL", "WHOAMI") == .bulk(Array("svc".utf8)))
            let wrong = RedisClient(configuration: try RedisConfiguration(url: "redis://svc:wrong@127.0.0.1:\(server.port)/0"))
            let error = await #expect(throws: RedisError.self) { try await wrong.execute("PING") }
            #expect(error?.message.hasPrefix("AUTH at 127.0.0.1:\(server.port) failed: WRONGPASS") == true)
        }
    }
}

/// Runs `body` against a new server started on `port` (where a test has just stopped its own), and stops
/// that server afterwards, also when `body` throws.
private func withServerRestarted(on port: Int, _ body: () async throws -> Void) async throws {
    let restarted = try await RedisTestServer.start(port: port)
    do {
        try await body()
    } catch {
        await restarted.stop()
        throw error
    }
    await restarted.stop()
}
