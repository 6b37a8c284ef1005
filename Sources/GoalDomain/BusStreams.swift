import SignalBus

/// The flow's streams as lists, for what watches or trims them all: the backlog monitor, `goalctl`.
public enum BusStreams {
    /// Every webhook event's stream (partitions included), which the gateway writes and so trims.
    public static func webhook(_ bus: BusConfiguration) -> [String] {
        Topics.webhookTopics.flatMap(bus.streamKeys(of:))
    }

    /// Every stream of the flow a consumer group may read: the webhook events', every topic some group
    /// listens to, and `outbox:pusher`, which the notifier reads.
    public static func all(_ bus: BusConfiguration) -> [String] {
        let topics = Set(Topics.webhookTopics).union(Catalogue.topics).sorted()
        return topics.flatMap(bus.streamKeys(of:)) + [Keys.pusherOutbox]
    }
}
