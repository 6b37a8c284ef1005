import Redis
import RedisTestSupport
import Testing

@Suite("Cluster configuration")
struct ClusterConfigurationTests {
    @Test("several seeds make a cluster URL; one host stays a single server")
    func clusterURL() throws {
        #expect(RedisConfiguration.isCluster(url: "redis://10.0.0.1:7000,10.0.0.2:7001"))
        #expect(RedisConfiguration.isCluster(url: "redis://svc:p%40ss@a:1,b:2,c:3/0"))
        #expect(!RedisConfiguration.isCluster(url: "redis://127.0.0.1:6379/2"))
        #expect(!RedisConfiguration.isCluster(url: "http://a:1,b:2"))

        let seeds = try RedisConfiguration.clusterSeeds(url: "redis://svc:p%40ss@a:7000,b,c:7002")
        #expect(seeds.map(\.address) == ["a:7000", "b:6379", "c:7002"])
        #expect(seeds.allSatisfy { $0.username == "svc" && $0.password == "p@ss" && $0.database == 0 })
        #expect(try RedisConfiguration.clusterSeeds(url: "redis://a:1").map(\.address) == ["a:1"])
    }

    @Test("a cluster URL is refused where one server is expected, and a database other than 0 anywhere")
    func refused() {
        #expect(throws: RedisError(
            code: .invalidURL,
            message: "invalid REDIS_URL 'redis://a:1,b:2': it lists several hosts, which makes it a cluster URL (see RedisClusterClient); expected redis://[user:password@]host:port[/db]"
        )) { try RedisConfiguration(url: "redis://a:1,b:2") }
        #expect(throws: RedisError(
            code: .invalidURL,
            message: "invalid REDIS_URL 'redis://a:1,b:2/3': a cluster has only database 0; expected redis://[user:password@]host:port,host:port[,…][/0]"
        )) { try RedisConfiguration.clusterSeeds(url: "redis://a:1,b:2/3") }
        #expect(throws: RedisError(
            code: .invalidURL,
            message: "invalid REDIS_URL 'redis://a:1,:2': the host is missing; expected redis://[user:password@]host:port,host:port[,…][/0]"
        )) { try RedisConfiguration.clusterSeeds(url: "redis://a:1,:2") }
        #expect(throws: RedisError(code: .configuration, message: "database 2 asked for a:1: a Redis Cluster has only database 0")) {
            try RedisClusterClient(seeds: [RedisConfiguration(host: "a", port: 1, database: 2)])
        }
        #expect(throws: RedisError(code: .configuration, message: "a Redis Cluster client needs at least one seed node")) {
            try RedisClusterClient(seeds: [])
        }
    }

    @Test("a server without cluster mode is named in a clear error")
    func notACluster() async throws {
        try await withRedisServer { server in
            let client = try RedisClusterClient(seeds: [server.configuration])
            let error = await #expect(throws: RedisError.self) { try await client.execute("GET", "k") }
            #expect(error?.code == .cluster)
            #expect(error?.message == "no node gave the cluster's slot map: 127.0.0.1:\(server.port): ERR This instance has cluster support disabled")
        }
    }
}
