import Logging
import Redis

extension ConsumerWorker {
    /// Refreshes this replica's heartbeat, takes over the pending entries of replicas whose heartbeat is gone
    /// and removes them from the group, claims messages pending longer than the claim idle time (a replica
    /// alive but stuck, or a message that failed), handles them again, moves those delivered too often to
    /// `dead:<stream>`, trims the streams, and reports lag.
    func recover() throws {
        try beat()
        try takeOverStoppedConsumers()
        let idle = Int(configuration.claimIdle.milliseconds)
        for topic in topics {
            let stream = streamKey(topic)
            let pending = try execute(RedisCommand(
                "XPENDING", stream, group.name, "IDLE", idle, "-", "+", configuration.batchSize
            ))
            var claim: [String] = []
            for entry in pending.array ?? [] {
                guard let fields = entry.array, fields.count == 4, let id = fields[0].string, let deliveries = fields[3].int else { continue }
                if deliveries >= configuration.maxDeliveries {
                    try deadLetter(topic: topic, entryID: id, deliveries: deliveries, error: "failed \(deliveries) times")
                } else {
                    claim.append(id)
                }
            }
            if !claim.isEmpty {
                var command = RedisCommand("XCLAIM", stream, group.name, consumerName, idle)
                for id in claim { command.append(id) }
                let claimed = try execute(command)
                let counts = Dictionary(uniqueKeysWithValues: (pending.array ?? []).compactMap { entry -> (String, Int)? in
                    guard let fields = entry.array, fields.count == 4, let id = fields[0].string, let count = fields[3].int else { return nil }
                    return (id, count + 1)
                })
                for entry in claimed.array ?? [] {
                    guard let message = try decode(entry, topic: topic) else { continue }
                    logger.info("claimed a message left pending", metadata: ["entry": .string(message.entryID), "stream": .string(stream)])
                    handle(message, deliveries: counts[message.entryID] ?? 2)
                }
            }
            try reportBacklog(topic)
        }
        try trimmer.trim(connection: connection)
    }

    /// Moves a message to `dead:<stream>` with its error and delivery count, acknowledges it, and records it
    /// in its chain's trace.
    func deadLetter(topic: Topic, entryID: String, deliveries: Int, error: String) throws {
        let stream = streamKey(topic)
        let reply = try execute(Self.deadLetterScript.evalSHA(
            keys: [stream, DeadLetters.key(for: stream, cluster: connection.isCluster), errorsKey],
            arguments: [group.name, entryID, deliveries, error]
        ))
        if let parts = reply.array, parts.count == 2, let fields = parts[1].array,
           let message = Message(topic: topic, entryID: entryID, fields: RedisValue.array(fields).fieldMap, partition: partition) {
            recordFailure(message, deliveries: deliveries, error: "dead-lettered after \(deliveries) deliveries: \(parts[0].string ?? error)")
        }
        metrics.message("dead_lettered", topic: topic)
        logger.error("message moved to dead letters", metadata: [
            "stream": .string(stream), "entry": .string(entryID), "deliveries": "\(deliveries)", "dead": .string(DeadLetters.key(for: stream, cluster: connection.isCluster)),
        ])
    }

    private func reportBacklog(_ topic: Topic) throws {
        let groups = try execute(RedisCommand("XINFO", "GROUPS", streamKey(topic)))
        for info in groups.array ?? [] {
            let fields = info.pairs
            guard fields["name"]?.string == group.name else { continue }
            metrics.backlog(stream: streamKey(topic), lag: fields["lag"]?.int ?? 0, pending: fields["pending"]?.int ?? 0)
        }
    }

    static let deadLetterScript = RedisScript(#"""
        local stream, dead, errors = KEYS[1], KEYS[2], KEYS[3]
        local group, entry, deliveries, fallback = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
        local field = stream .. ' ' .. entry
        local reason = redis.call('HGET', errors, field) or fallback
        local found = redis.call('XRANGE', stream, entry, entry)
        local fields = {}
        if #found > 0 then
          fields = found[1][2]
          local args = {'XADD', dead, '*'}
          for _, value in ipairs(found[1][2]) do args[#args + 1] = value end
          for _, value in ipairs({'dead.group', group, 'dead.entry', entry, 'dead.deliveries', deliveries, 'dead.error', reason}) do
            args[#args + 1] = value
          end
          redis.call(unpack(args))
        end
        redis.call('HDEL', errors, field)
        redis.call('XACK', stream, group, entry)
        return {reason, fields}
        """#)
}
