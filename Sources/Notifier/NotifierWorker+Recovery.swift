import Logging
import Redis
import SignalBus

extension NotifierWorker {
    /// Drives the bus's recovery pass over the notifier's client: refreshes the heartbeat, sends the entries
    /// taken over from stopped replicas (removed from the group) and those claimed after the idle time,
    /// counts and logs those that were out of attempts and went to the dead letters, reports the group's
    /// backlog, and trims the outbox below what every group on it has acknowledged. A stop ends the pass
    /// between two steps: what it took over stays pending with this replica, for a live one to take over.
    func recover(_ pass: inout RecoveryPass) async throws {
        while !isStopping, let step = pass.next() {
            switch step {
            case .send(let commands):
                try pass.receive(await client.pipeline(commands))
            case .takenOver(_, let stopped, let entries):
                logger.warning("a stopped replica's pending entries taken over and the replica removed from the group", metadata: [
                    "stopped": .string(stopped), "entries": "\(entries.count)",
                ])
                try await deliver(entries, why: "taken over from a stopped replica")
            case .claimed(let entries):
                try await deliver(entries, why: "claimed an entry left pending")
            case .deadLettered(let letter):
                metrics.count(.deadLettered)
                logger.error("claimed entry was out of attempts; moved to dead letters", metadata: [
                    "outbox.entry": .string(letter.entryID), "notifier.attempt": "\(letter.deliveries)", "dead": .string(deadLetterKey),
                ])
            case .backlog(_, let lag, let pending):
                metrics.backlog(lag: lag, pending: pending)
            }
        }
    }

    /// Sends entries taken over or claimed just now, in order, until the service stops; those not sent stay
    /// pending with this replica.
    private func deliver(_ entries: [DeliveredEntry], why: String) async throws {
        let claimedAt = ContinuousClock.now
        for entry in entries {
            if isStopping { return }
            let outbox = OutboxEntry(entry)
            entryLogger(outbox).info("\(why)")
            try await deliver(outbox, deliveries: entry.deliveries, readAt: claimedAt)
        }
    }

    /// Takes an entry again if it is still pending with this consumer, resetting its idle time so that no other
    /// replica claims it while this one works on it; with `counting`, before a retry, also counts a delivery.
    /// - Returns: the entry's delivery count, or `nil` when it is no longer this consumer's.
    func renew(_ entryID: String, counting: Bool) async throws -> Int? {
        let reply = try await client.run(
            Self.renewScript, keys: [configuration.stream],
            arguments: [configuration.group, consumerName, entryID, counting ? "1" : "0"]
        )
        guard let count = reply.int, count > 0 else { return nil }
        return count
    }

    /// `KEYS[1]` stream; `ARGV` group, consumer, entry, whether to count a delivery. Returns the delivery
    /// count, or -1 when the entry is not pending with the consumer (acknowledged, claimed, or deleted).
    static let renewScript = RedisScript(#"""
        local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)[1]
        if not pending or pending[2] ~= ARGV[2] then return -1 end
        if ARGV[4] == '1' then
          local claimed = redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3])
          if #claimed == 0 or not claimed[1] then return -1 end
          return pending[4] + 1
        end
        local touched = redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')
        if #touched == 0 then return -1 end
        return pending[4]
        """#)
}
