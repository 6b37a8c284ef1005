import Redis

extension ConsumerWorker {
    /// Commits prepared messages and returns each one's outcome, in order.
    ///
    /// Whole commits go in one script call. A cluster's split commits go in up to four pipelines: the checks
    /// of hashes read in slots they do not write, their first parts (read-set check), then the parts in
    /// other slots, then the parts that acknowledge, so that a message is acknowledged only once every slot
    /// has its share. Within a pipeline, the parts of one slot go in one script call. A first part found
    /// committed before (a crash came between the steps) hands back the rest of its commit, which is
    /// finished as it was planned. When the connection fails midway, the messages already settled keep their
    /// outcome and the others are ``CommitScript/Result/interrupted(_:)``.
    ///
    /// `acks` (the `XACK`s of messages whose receivers all returned) ride in the pipeline of the first parts;
    /// `acksSent` tells whether Redis took them.
    func commit(_ batch: [PreparedCommit], acknowledging acks: [RedisCommand]) -> (results: [CommitScript.Result], acksSent: Bool) {
        var results = [CommitScript.Result?](repeating: nil, count: batch.count)
        var acksSent = false
        do throws(RedisError) {
            try commit(batch.compactMap(\.plan), acks: acks, acksSent: &acksSent, into: &results)
        } catch {
            for index in results.indices where results[index] == nil { results[index] = .interrupted(error) }
        }
        return (results.map { $0! }, acksSent)
    }

    private func commit(
        _ batch: [CommitPlan], acks: [RedisCommand], acksSent: inout Bool, into results: inout [CommitScript.Result?]
    ) throws(RedisError) {
        let checks = batch.indices.flatMap { index -> [(Int, RedisCommand)] in
            if case .split(let checks, _, _, _) = batch[index] { return checks.map { (index, $0) } }
            return []
        }
        for ((index, _), reply) in zip(checks, try connection.send(checks.map(\.1))) {
            let result = try CommitScript.result(reply)
            if case .conflict = result, results[index] == nil { results[index] = result }
        }

        var firsts: [(Int, CommitPart)] = []
        var wholes: [(Int, CommitPart)] = []
        for index in batch.indices where results[index] == nil {
            switch batch[index] {
            case .whole(let part): wholes.append((index, part))
            case .split(_, let first?, _, _): firsts.append((index, first))
            case .split: break
            }
        }
        // Each message's first part decides what happens to the rest of it.
        var firstResults: [Int: CommitScript.Result] = [:]
        for (index, result) in try send(firsts.map { .part($0.0, $0.1) } + wholes.map { .part($0.0, $0.1) }, extra: acks) {
            if case .whole = batch[index] { results[index] = result } else { firstResults[index] = result }
        }
        acksSent = true

        // What each split message still has to run: its planned parts, or the commands its first part kept.
        var middle: [Step] = []
        var finish: [Step] = []
        // Messages finishing a commit kept by an earlier delivery, with this delivery's own finishing part.
        var replayed: [(Int, CommitPart)] = []
        for index in batch.indices where results[index] == nil {
            guard case .split(_, let first, let middleParts, let finishPart) = batch[index] else { continue }
            switch first == nil ? .committed : firstResults[index]! {
            case .committed:
                middle += middleParts.map { .part(index, $0) }
                finish.append(.part(index, finishPart))
            case .duplicate(let record):
                guard let stored = RedisCommand.decode(record, scripts: [CommitScript.script]), let last = stored.last else {
                    results[index] = .failed("the marker of an earlier commit does not hold the rest of that commit")
                    continue
                }
                middle += stored.dropLast().map { .command(index, $0) }
                finish.append(.command(index, last))
                replayed.append((index, finishPart))
            case let other:
                results[index] = other
            }
        }

        // Parts in other slots, then the acknowledging parts: a message is acknowledged only when all its
        // other parts are in.
        for (index, result) in try send(middle) {
            if case .failed = result, results[index] == nil { results[index] = result }
        }
        for (index, result) in try send(finish.filter { results[$0.index] == nil }) {
            results[index] = result
        }
        // The kept commit finished the entry it was planned for. This delivery may be another entry of the
        // same message (a replayed dead letter): its own finishing part then acknowledges it, and applies the
        // emissions only when the kept commit found its own entry no longer pending.
        let acknowledging = replayed.filter { index, _ in
            switch results[index] {
            case .committed?, .acknowledged?: true
            default: false
            }
        }
        _ = try send(acknowledging.map { .part($0.0, $0.1) })
    }

    /// One step of a split commit: a planned part, or a command kept by an earlier commit's first part.
    enum Step {
        case part(Int, CommitPart)
        case command(Int, RedisCommand)

        var index: Int {
            switch self {
            case .part(let index, _), .command(let index, _): index
            }
        }
    }

    /// Sends the steps in one pipeline, the parts of one slot (all, on one server) in one script call (the messages of a batch
    /// are independent, so each part's outcome is its own), and returns each step's result with its
    /// message's index, in no particular order.
    private func send(_ steps: [Step], extra: [RedisCommand] = []) throws(RedisError) -> [(Int, CommitScript.Result)] {
        var groups: [HashSlot: [(Int, CommitPart)]] = [:]
        var order: [HashSlot] = []
        var single: [(Int, RedisCommand)] = []
        for step in steps {
            switch step {
            case .part(let index, let part):
                // One server takes every part in one call; a cluster, one call per slot.
                let slot = connection.isCluster ? HashSlot(key: part.slotKey) : HashSlot(0)
                if groups[slot] == nil { order.append(slot) }
                groups[slot, default: []].append((index, part))
            case .command(let index, let command):
                single.append((index, command))
            }
        }
        let grouped = order.map { groups[$0]! }
        let commands = grouped.map { CommitScript.command($0.map(\.1), group: group.name, configuration: configuration) } + single.map(\.1)
        guard !commands.isEmpty || !extra.isEmpty else { return [] }
        let replies = try connection.send(commands + extra)
        for reply in replies.dropFirst(commands.count) { _ = try reply.checked() }
        var results: [(Int, CommitScript.Result)] = []
        for (parts, reply) in zip(grouped, replies) {
            for ((index, _), result) in zip(parts, try CommitScript.results(reply, count: parts.count)) {
                results.append((index, result))
            }
        }
        for ((index, _), reply) in zip(single, replies.dropFirst(grouped.count)) {
            results.append((index, try CommitScript.results(reply, count: 1)[0]))
        }
        return results
    }
}
