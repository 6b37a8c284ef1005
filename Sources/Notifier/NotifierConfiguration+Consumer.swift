import SignalBus

extension NotifierConfiguration {
    /// The stream consumer that `consumer` is in the group: the outbox read and trimmed, a delivery for every
    /// attempt, and the notifier's own batch, block, claim, heartbeat and recovery times.
    func consumerSettings(consumer: String) -> StreamConsumerSettings {
        var settings = StreamConsumerSettings(group: group, consumer: consumer, streams: [stream], errorsKey: errorsKey)
        settings.streamKeep = streamKeep
        settings.cluster = cluster
        settings.batchSize = batchSize
        settings.block = block
        settings.claimIdle = claimIdle
        settings.maxDeliveries = maxAttempts
        settings.heartbeat = heartbeat
        settings.recoveryInterval = recoveryInterval
        return settings
    }
}
