import Logging
import Redis

extension ConsumerWorker {
    /// Drives the recovery pass of ``StreamConsumerCore`` over this worker's link: refreshes the heartbeat,
    /// handles the entries taken over from stopped replicas and those claimed after the idle time, records
    /// those moved to the dead letters, reports lag, and trims the group's streams and sinks.
    func recover(_ pass: inout RecoveryPass) throws {
        while let step = pass.next() {
            switch step {
            case .send(let commands):
                try pass.receive(connection.send(commands))
            case .takenOver(let stream, let stopped, let entries):
                logger.warning("a stopped replica's pending entries taken over and the replica removed from the group", metadata: [
                    "stream": .string(stream), "stopped": .string(stopped), "entries": "\(entries.count)",
                ])
                metrics.takenOver(stream: stream, count: entries.count)
                for entry in entries {
                    guard let message = try decode(entry) else { continue }
                    handle(message, deliveries: entry.deliveries)
                }
            case .claimed(let entries):
                for entry in entries {
                    guard let message = try decode(entry) else { continue }
                    logger.info("claimed a message left pending", metadata: ["entry": .string(message.entryID), "stream": .string(entry.stream)])
                    handle(message, deliveries: entry.deliveries)
                }
            case .deadLettered(let letter):
                recordDeadLetter(letter)
            case .backlog(let stream, let lag, let pending):
                metrics.backlog(stream: stream, lag: lag, pending: pending)
            }
        }
    }

    /// Reads the reply of a dead-letter command sent for `entry` and records it.
    func deadLetter(_ reply: RedisValue, entry: DeliveredEntry, error: String) throws {
        recordDeadLetter(try core.deadLettered(reply, stream: entry.stream, entryID: entry.id, deliveries: entry.deliveries, error: error))
    }

    /// Counts and logs a message moved to `dead:<stream>`, and records it in its chain's trace.
    private func recordDeadLetter(_ letter: DeadLettered) {
        guard let topic = topicsByStream[letter.stream] else { return }
        if let message = Message(topic: topic, entryID: letter.entryID, fields: letter.fields, partition: partition) {
            recordFailure(message, deliveries: letter.deliveries, error: "dead-lettered after \(letter.deliveries) deliveries: \(letter.error)")
        }
        metrics.message("dead_lettered", topic: topic)
        logger.error("message moved to dead letters", metadata: [
            "stream": .string(letter.stream), "entry": .string(letter.entryID), "deliveries": "\(letter.deliveries)",
            "dead": .string(core.deadLetterKey(for: letter.stream)),
        ])
    }

    /// On a clean stop: leaves the group where this replica holds nothing pending, and ends its heartbeat.
    func leave() {
        _ = try? connection.send(core.leaveCommands())
    }
}
