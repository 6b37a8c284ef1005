import GoalDomain
import Redis
import SignalBus

/// How much work each process of the stack did in a run, counted in the unit its CPU is divided by: for a
/// receiver group, the deliveries it handled (the `entries-read` of its consumer group, summed over the
/// streams it reads); for the gateway, the webhook events it stored (`entries-added` of the webhook streams).
enum DeliveryCount {
    /// The name the gateway's count goes under, as its process's.
    static let gateway = "gateway"

    /// The streams each receiver group reads, every partition listed, by group name.
    static func groupStreams(_ bus: BusConfiguration) -> [String: [String]] {
        Dictionary(uniqueKeysWithValues: Catalogue.groups().map { group in (group.name, group.topics.flatMap(bus.streamKeys(of:))) })
    }

    /// The streams the gateway stores webhook events in, as the topics' keys (``RedisProbe/entriesAdded(_:)``
    /// adds up their partitions).
    static var webhookStreams: [String] { Topics.webhookTopics.map(\.key) }

    /// `entries-read` of each consumer group in one `XINFO GROUPS` reply, by group name. Redis gives none
    /// (`nil`) to a group created at `0` until it first reads: its `last-delivered-id` is still `0-0`, and it
    /// has read nothing. A group whose count Redis cannot tell otherwise (after a `XGROUP SETID` without
    /// `ENTRIESREAD`, or entries deleted in its way) is left out.
    static func entriesRead(_ reply: RedisValue) -> [String: Int] {
        var counts: [String: Int] = [:]
        for group in reply.array ?? [] {
            let fields = group.pairs
            guard let name = fields["name"]?.string else { continue }
            if let read = fields["entries-read"]?.int {
                counts[name] = read
            } else if fields["last-delivered-id"]?.string == "0-0" {
                counts[name] = 0
            }
        }
        return counts
    }

    /// Each group's reading: its `entries-read` summed over the streams it reads, from the `XINFO GROUPS`
    /// reply of every stream. A group missing from any of its streams' replies gets no reading.
    static func reading(groupStreams: [String: [String]], replies: [String: RedisValue]) -> [String: Int] {
        let perStream = replies.mapValues(entriesRead)
        var readings: [String: Int] = [:]
        for (group, streams) in groupStreams {
            let counts = streams.map { perStream[$0]?[group] }
            guard !counts.contains(where: { $0 == nil }) else { continue }
            readings[group] = counts.reduce(0) { $0 + ($1 ?? 0) }
        }
        return readings
    }

    /// What each name counted between two readings; a name that either reading lacks is left out.
    static func delta(before: [String: Int], after: [String: Int]) -> [String: Int] {
        var deltas: [String: Int] = [:]
        for (name, count) in after {
            if let earlier = before[name] { deltas[name] = count - earlier }
        }
        return deltas
    }

    /// Microseconds of CPU per delivery, for every name with both a CPU time and at least one delivery.
    /// - Parameters:
    ///   - cpuSeconds: CPU seconds used in the run, per process name (replicas summed).
    ///   - deliveries: deliveries (or events stored) in the run, per the same names.
    static func microsecondsPerDelivery(cpuSeconds: [String: Double], deliveries: [String: Int]) -> [String: Double] {
        var result: [String: Double] = [:]
        for (name, count) in deliveries where count > 0 {
            if let seconds = cpuSeconds[name] { result[name] = seconds * 1_000_000 / Double(count) }
        }
        return result
    }
}
