import Redis
import SignalBus

extension Settings {
    /// `redis.url` (`REDIS_URL`), default `redis://127.0.0.1:6379/0`: one server, or a Redis Cluster when the
    /// URL lists several seed nodes (`redis://host:port,host:port`) or `redis.cluster` (`REDIS_CLUSTER`) is true.
    public func redis() throws -> RedisEndpoint {
        let url = string("redis.url", default: "redis://127.0.0.1:6379/0")
        let cluster = try bool("redis.cluster", default: false)
        do {
            return try RedisEndpoint(url: url, cluster: cluster)
        } catch {
            throw SettingsError(key: "redis.url", message: error.message)
        }
    }

    /// The signal bus settings under `bus.*` and `trace.*`.
    /// - Parameter cluster: whether Redis is a cluster: only then are streams partitioned (`bus.partitions`,
    ///   default 3; refused on one server, where the contract's stream names hold).
    public func bus(cluster: Bool = false) throws -> BusConfiguration {
        var bus = BusConfiguration()
        if cluster {
            bus.partitions = try int("bus.partitions", default: 3, in: 1...1024)
        } else if let partitions = try optionalInt("bus.partitions") {
            throw SettingsError(key: "bus.partitions", message: "\(partitions) asked for on one Redis server; streams are partitioned only on a Redis Cluster (set REDIS_CLUSTER=true or list several nodes in REDIS_URL)")
        }
        bus.batchSize = try int("bus.batch.size", default: bus.batchSize, in: 1...10_000)
        bus.block = .milliseconds(try int("bus.block.ms", default: Int(bus.block.milliseconds), in: 10...60_000))
        bus.claimIdle = .milliseconds(try int("bus.claim.idle.ms", default: Int(bus.claimIdle.milliseconds), in: 10...86_400_000))
        bus.maxDeliveries = try int("bus.max.deliveries", default: bus.maxDeliveries, in: 1...1000)
        try refuseRetiredKeys()
        bus.streamKeep = try int("bus.stream.keep", default: bus.streamKeep, in: 100...Int.max)
        bus.backlogLimit = try int("bus.backlog.limit", default: bus.backlogLimit, in: 1...Int.max)
        bus.heartbeat = .milliseconds(try int("bus.heartbeat.ms", default: Int(bus.heartbeat.milliseconds), in: 500...600_000))
        bus.shutdownTimeout = .seconds(try int("bus.shutdown.seconds", default: Int(bus.shutdownTimeout.components.seconds), in: 1...3600))
        bus.traceSeconds = try int("trace.seconds", default: bus.traceSeconds, in: 60...Int.max)
        bus.traceSample = try double("trace.sample", default: bus.traceSample, in: 0...1)
        return bus
    }
}
