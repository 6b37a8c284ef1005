import Redis
import Testing

@Suite("REDIS_URL")
struct RedisConfigurationTests {
    @Test("full URL with user, password and database")
    func fullURL() throws {
        let configuration = try RedisConfiguration(url: "redis://svc:p%40ss@redis.local:6380/2")
        #expect(configuration.host == "redis.local")
        #expect(configuration.port == 6380)
        #expect(configuration.username == "svc")
        #expect(configuration.password == "p@ss")
        #expect(configuration.database == 2)
    }

    @Test("defaults for port, database and user")
    func defaults() throws {
        let configuration = try RedisConfiguration(url: "redis://:secret@127.0.0.1")
        #expect(configuration.port == 6379)
        #expect(configuration.database == 0)
        #expect(configuration.username == nil)
        #expect(configuration.password == "secret")
    }

    @Test("bad URLs are refused with the reason", arguments: [
        ("http://x:1", "the scheme must be redis://"),
        ("redis://x:0", "the port must be a number from 1 to 65535"),
        ("redis://x:port", "the port must be a number from 1 to 65535"),
        ("redis://:1", "the host is missing"),
        ("redis://x:1/db", "the database must be a number ≥ 0"),
    ])
    func refused(url: String, reason: String) {
        #expect(throws: RedisError(code: .invalidURL, message: "invalid REDIS_URL '\(url)': \(reason); expected redis://[user:password@]host:port[/db]")) {
            try RedisConfiguration(url: url)
        }
    }
}
