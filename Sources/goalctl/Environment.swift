import Redis
import ServiceRuntime

/// What every subcommand needs: the settings and a Redis client.
struct Environment {
    let settings: Settings
    let redis: RedisClient

    static func load() async throws -> Environment {
        let settings = try await Settings.load()
        return Environment(settings: settings, redis: RedisClient(configuration: try settings.redis(), name: "goalctl"))
    }
}
