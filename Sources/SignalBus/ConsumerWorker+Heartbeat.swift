import Logging
import Redis

extension ConsumerWorker {
    /// The key whose life says this replica is running: `heartbeat:<group>:<consumer>`, refreshed on every
    /// pass of the consumer loop and expiring ``BusConfiguration/heartbeat`` after the last one.
    static func heartbeatKey(group: String, consumer: String) -> String {
        "heartbeat:\(group):\(consumer)"
    }

    /// Refreshes this replica's heartbeat.
    func beat() throws {
        try execute(RedisCommand(
            "SET", Self.heartbeatKey(group: group.name, consumer: consumerName), "1", "PX", Int(configuration.heartbeat.milliseconds)
        ))
    }

    /// Finds the group's consumers whose heartbeat is gone (a replica that stopped without leaving: SIGKILL,
    /// a lost machine) and, per stream, takes over their pending entries and removes them from the group in
    /// one atomic step; then handles what it took. A consumer idle for less than the heartbeat's life is left
    /// alone, so a replica that has just started is never mistaken for a stopped one.
    func takeOverStoppedConsumers() throws {
        let heartbeat = Int(configuration.heartbeat.milliseconds)
        for topic in topics {
            let stream = streamKey(topic)
            let consumers = try execute(RedisCommand("XINFO", "CONSUMERS", stream, group.name)).array ?? []
            let candidates = consumers.compactMap { info -> String? in
                let fields = info.pairs
                guard let name = fields["name"]?.string, name != consumerName, (fields["idle"]?.int ?? 0) > heartbeat else { return nil }
                return name
            }
            guard !candidates.isEmpty else { continue }
            let alive = try connection.send(candidates.map { RedisCommand("EXISTS", Self.heartbeatKey(group: group.name, consumer: $0)) })
            for (name, reply) in zip(candidates, alive) where reply.int == 0 {
                let taken = try execute(Self.takeOverScript.evalSHA(keys: [stream], arguments: [group.name, name, consumerName]))
                let entries = taken.array ?? []
                logger.warning("a stopped replica's pending entries taken over and the replica removed from the group", metadata: [
                    "stream": .string(stream), "stopped": .string(name), "entries": "\(entries.count / 2)",
                ])
                metrics.takenOver(stream: stream, count: entries.count / 2)
                for index in stride(from: 0, to: entries.count - 1, by: 2) {
                    guard let message = try decode(entries[index], topic: topic) else { continue }
                    handle(message, deliveries: (entries[index + 1].int ?? 1) + 1)
                }
            }
        }
    }

    /// On a clean stop: removes this replica from the group on every stream where it holds no pending entry
    /// (those it holds stay for a live replica to take over), and ends its heartbeat.
    func leave() {
        for topic in topics {
            let stream = streamKey(topic)
            _ = try? connection.send(Self.leaveScript.evalSHA(keys: [stream], arguments: [group.name, consumerName]))
        }
        _ = try? connection.send(RedisCommand("DEL", Self.heartbeatKey(group: group.name, consumer: consumerName)))
    }

    /// Claims every entry pending with consumer `ARGV[2]` for `ARGV[3]`, then deletes `ARGV[2]` from the group,
    /// atomically, so no entry read in between is lost with it. Answers the entries and their delivery counts
    /// before the claim, alternating.
    static let takeOverScript = RedisScript(#"""
        local stream, group, stopped, me = KEYS[1], ARGV[1], ARGV[2], ARGV[3]
        local taken = {}
        while true do
          local pending = redis.call('XPENDING', stream, group, '-', '+', 500, stopped)
          if #pending == 0 then break end
          local ids, counts = {}, {}
          for _, entry in ipairs(pending) do
            ids[#ids + 1] = entry[1]
            counts[entry[1]] = entry[4]
          end
          local claimed, found = redis.call('XCLAIM', stream, group, me, 0, unpack(ids)), {}
          for _, entry in ipairs(claimed) do
            if type(entry) == 'table' then
              found[entry[1]] = true
              taken[#taken + 1] = entry
              taken[#taken + 1] = counts[entry[1]]
            end
          end
          -- An entry deleted from the stream cannot be claimed: it leaves the stopped consumer's list here.
          for _, id in ipairs(ids) do
            if not found[id] and redis.call('XPENDING', stream, group, id, id, 1, stopped)[1] then
              redis.call('XACK', stream, group, id)
            end
          end
        end
        redis.call('XGROUP', 'DELCONSUMER', stream, group, stopped)
        return taken
        """#)

    /// Deletes consumer `ARGV[2]` from the group when it holds no pending entry; answers whether it did.
    static let leaveScript = RedisScript(#"""
        local stream, group, me = KEYS[1], ARGV[1], ARGV[2]
        if #redis.call('XPENDING', stream, group, '-', '+', 1, me) > 0 then return 0 end
        redis.call('XGROUP', 'DELCONSUMER', stream, group, me)
        return 1
        """#)
}
