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
            let restarted = try await RedisTestServer.start(port: server.port)
            #expect(try await client.execute("PING") == .status("PONG"))
            #expect(try await client.execute("GET", "before") == .null)
            await restarted.stop()
        }
    }

    @Test("a restart while the client is idle is noticed before the next command")
    func idleRestartIsTransparent() async throws {
        try await withRedisServer { server in
            let client = server.client()
            #expect(try await client.execute("PING") == .status("PONG"))
            await server.stop()
            let restarted = try await RedisTestServer.start(port: server.port)
            #expect(try await client.execute("SET", "after", "1") == .status("OK"))
            await restarted.stop()
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
