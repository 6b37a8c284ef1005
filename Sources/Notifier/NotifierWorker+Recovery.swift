import Logging
import Redis

extension NotifierWorker {
    /// Claims entries pending longer than the claim idle time (their consumer died), moves those delivered
    /// too often to `dead:<stream>`, and sends the rest.
    func recover() async throws {
        let idle = Int(configuration.claimIdle.milliseconds)
        let pending = try await client.execute(
            "XPENDING", configuration.stream, configuration.group, "IDLE", idle, "-", "+", configuration.batchSize
        )
        var deliveries: [String: Int] = [:]
        var claim: [String] = []
        for entry in pending.array ?? [] {
            guard let fields = entry.array, fields.count == 4, let id = fields[0].string, let count = fields[3].int else { continue }
            if count >= configuration.maxAttempts {
                try await deadLetter(id, deliveries: count, error: "failed \(count) times", record: false)
                logger.error("claimed entry was out of attempts; moved to dead letters", metadata: [
                    "outbox.entry": .string(id), "notifier.attempt": "\(count)", "dead": .string(deadLetterKey),
                ])
            } else {
                claim.append(id)
                deliveries[id] = count + 1
            }
        }
        guard !claim.isEmpty else { return }
        var command = RedisCommand("XCLAIM", configuration.stream, configuration.group, consumerName, idle)
        for id in claim { command.append(id) }
        let claimed = try await client.execute(command).array ?? []
        let claimedAt = ContinuousClock.now
        for reply in claimed {
            if isStopping { return }
            guard let entry = OutboxEntry(reply) else { continue }
            entryLogger(entry).info("claimed an entry left pending")
            try await deliver(entry, deliveries: deliveries[entry.entryID] ?? 2, readAt: claimedAt)
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
