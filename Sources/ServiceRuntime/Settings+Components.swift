import Redis
import SignalBus

extension Settings {
    /// `redis.url` (`REDIS_URL`), default `redis://127.0.0.1:6379/0`.
    public func redis() throws -> RedisConfiguration {
        let url = string("redis.url", default: "redis://127.0.0.1:6379/0")
        do {
            return try RedisConfiguration(url: url)
        } catch {
            throw SettingsError(key: "redis.url", message: error.message)
        }
    }

    /// The signal bus settings under `bus.*` and `trace.*`.
    public func bus() throws -> BusConfiguration {
        var bus = BusConfiguration()
        bus.batchSize = try int("bus.batch.size", default: bus.batchSize, in: 1...10_000)
        bus.block = .milliseconds(try int("bus.block.ms", default: Int(bus.block.milliseconds), in: 10...60_000))
        bus.claimIdle = .milliseconds(try int("bus.claim.idle.ms", default: Int(bus.claimIdle.milliseconds), in: 10...86_400_000))
        bus.maxDeliveries = try int("bus.max.deliveries", default: bus.maxDeliveries, in: 1...1000)
        bus.streamMaxLength = try int("bus.stream.maxlen", default: bus.streamMaxLength, in: 1000...Int.max)
        bus.dedupSeconds = try int("bus.dedup.seconds", default: bus.dedupSeconds, in: 60...Int.max)
        bus.shutdownTimeout = .seconds(try int("bus.shutdown.seconds", default: Int(bus.shutdownTimeout.components.seconds), in: 1...3600))
        bus.traceSeconds = try int("trace.seconds", default: bus.traceSeconds, in: 0...Int.max)
        if bus.traceSeconds > 0 && bus.traceSeconds < 60 {
            throw SettingsError(key: "trace.seconds", message: "\(bus.traceSeconds) is too short; expected 0 (tracing off) or at least 60")
        }
        return bus
    }
}
