import Redis

extension ConsumerWorker {
    /// Commits prepared messages and returns each one's outcome, in order.
    ///
    /// Whole commits go in one script call. A cluster's split commits go in up to four pipelines: the checks
    /// of hashes read in slots they do not write, their first parts (read-set check), then the parts in
    /// other slots, then the parts that acknowledge, so that a message is acknowledged only once every slot
    /// has its share. A first part found committed before (a crash came between the steps) hands back the
    /// rest of its commit, which is finished as it was planned.
    /// - Throws: ``RedisError`` when the connection fails.
    func commit(_ batch: [PreparedCommit]) throws(RedisError) -> [CommitScript.Result] {
        var results = [CommitScript.Result?](repeating: nil, count: batch.count)
        let checks = batch.indices.flatMap { index -> [(Int, RedisCommand)] in
            if case .split(let checks, _, _) = batch[index].plan { return checks.map { (index, $0) } }
            return []
        }
        for ((index, _), reply) in zip(checks, try connection.send(checks.map(\.1))) {
            let result = try CommitScript.results(RedisValue.array([reply]), count: 1)[0]
            if case .conflict = result, results[index] == nil { results[index] = result }
        }
        let wholes = batch.indices.compactMap { index -> (Int, CommitPart)? in
            if case .whole(let part) = batch[index].plan { return (index, part) }
            return nil
        }
        let firsts = batch.indices.compactMap { index -> (Int, CommitPart)? in
            if case .split(_, let first?, _) = batch[index].plan, results[index] == nil { return (index, first) }
            return nil
        }

        var commands = firsts.map { CommitScript.command([$0.1], group: group.name, configuration: configuration) }
        if !wholes.isEmpty {
            commands.append(CommitScript.command(wholes.map(\.1), group: group.name, configuration: configuration))
        }
        let replies = try connection.send(commands)
        if !wholes.isEmpty {
            for ((index, _), result) in zip(wholes, try CommitScript.results(replies[firsts.count], count: wholes.count)) {
                results[index] = result
            }
        }

        // What each split message still has to run, in order.
        var remaining: [(index: Int, commands: [RedisCommand])] = []
        var firstResults: [Int: CommitScript.Result] = [:]
        for ((index, _), reply) in zip(firsts, replies) {
            firstResults[index] = try CommitScript.results(reply, count: 1)[0]
        }
        for index in batch.indices where results[index] == nil {
            guard case .split(_, let first, let rest) = batch[index].plan else { continue }
            guard first != nil else {
                remaining.append((index, rest))
                continue
            }
            switch firstResults[index]! {
            case .committed:
                remaining.append((index, rest))
            case .duplicate(let record):
                guard let rest = record.flatMap({ RedisCommand.decode($0, scripts: [CommitScript.script]) }), !rest.isEmpty else {
                    results[index] = .failed("the marker of an earlier commit does not hold the rest of that commit")
                    continue
                }
                remaining.append((index, rest))
            case let other:
                results[index] = other
            }
        }

        // Parts in other slots, then the acknowledging parts: a message is acknowledged only when all its
        // other parts are in.
        let middle = remaining.flatMap { item in item.commands.dropLast().map { (item.index, $0) } }
        for ((index, _), reply) in zip(middle, try connection.send(middle.map(\.1))) {
            if case .failed(let reason) = try CommitScript.results(reply, count: 1)[0], results[index] == nil {
                results[index] = .failed(reason)
            }
        }
        let finishing = remaining.filter { results[$0.index] == nil }
        for (item, reply) in zip(finishing, try connection.send(finishing.map { $0.commands[$0.commands.count - 1] })) {
            results[item.index] = try CommitScript.results(reply, count: 1)[0]
        }
        return results.map { $0! }
    }
}
