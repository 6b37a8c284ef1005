import ArgumentParser
import Redis
import ServiceRuntime
import SignalBus

/// What every subcommand needs: the settings, where Redis is, and a runner for it.
struct Environment {
    let settings: Settings
    let endpoint: RedisEndpoint
    /// The bus settings, for how streams are partitioned on a cluster.
    let bus: BusConfiguration
    let redis: any RedisCommandRunner

    static func load() async throws -> Environment {
        let settings = try await Settings.load()
        let endpoint = try settings.redis()
        return Environment(
            settings: settings, endpoint: endpoint, bus: try settings.bus(cluster: endpoint.isCluster),
            redis: try endpoint.makeRunner(name: "goalctl")
        )
    }

    /// The one server's configuration, for the benchmarks that measure a single Redis.
    func server(for command: String) throws -> RedisConfiguration {
        guard case .server(let configuration) = endpoint else {
            throw ValidationError("goalctl \(command) measures one Redis server; REDIS_URL names a cluster")
        }
        return configuration
    }
}
