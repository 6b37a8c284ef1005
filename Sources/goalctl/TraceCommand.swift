import ArgumentParser
import Foundation
import GoalDomain
import Redis
import SignalBus

struct TraceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Draw the traced chains of a goal: each signal, each receiver in order, acted or returned and why, what it changed.",
        discussion: """
            Chains are traced by the sample (trace.sample), for goals whose hash has trace = 1 (goalctl goal trace <goal> on), \
            and every delivery that failed is recorded whatever the sample. For a goal none of whose chains was traced, \
            what the streams still hold for it is listed instead.
            """
    )

    @Argument(help: "Goal id.") var goal: String
    @Flag(help: "Print a JSON object: goal, chains (each trace with its records), entries (what the streams hold, when no chain was traced).") var json = false

    /// What `goalctl trace --json` prints.
    struct Output: Encodable {
        struct Chain: Encodable {
            let trace: String
            let records: [TraceRecord]
        }

        struct Entry: Encodable {
            let stream: String
            let id: String
            let fields: [String: String]
        }

        let goal: String
        let chains: [Chain]
        let entries: [Entry]
    }

    func run() async throws {
        let environment = try await Environment.load()
        let redis = environment.redis
        let traces = try await redis.execute("ZRANGE", Keys.goalTraces(goal), 0, -1).array?.compactMap(\.string) ?? []
        let groups = Catalogue.groups().map(\.name)
        var chains: [Output.Chain] = []
        for trace in traces {
            let records = try await ChainTrace.records(trace: trace, groups: groups, partition: environment.bus.partition(of: goal), redis: redis)
            if !records.isEmpty { chains.append(Output.Chain(trace: trace, records: records)) }
        }
        if json {
            let entries = chains.isEmpty
                ? try await GoalStreamScan.entries(of: goal, streams: BusStreams.all(environment.bus), redis: redis).map { Output.Entry(stream: $0.stream, id: $0.id, fields: $0.fields) }
                : []
            return try JSONOutput.print(Output(goal: goal, chains: chains, entries: entries))
        }
        for chain in chains { TraceDrawing.draw(trace: chain.trace, records: chain.records) }
        if chains.isEmpty { try await explainUntraced(environment) }
    }

    /// Says why nothing was drawn, lists what the streams still hold for the goal, and how to trace it.
    private func explainUntraced(_ environment: Environment) async throws {
        let flagged = try await environment.redis.execute("HGET", Keys.goal(goal), "trace").string == "1"
        print(
            "no traced chain of goal \(goal) is kept: chains are traced by the sample (trace.sample \(environment.bus.traceSample))"
                + (flagged ? "" : " or when the goal asks for it")
                + ", and traces are kept trace.seconds (\(environment.bus.traceSeconds) s)"
        )
        let entries = try await GoalStreamScan.entries(of: goal, streams: BusStreams.all(environment.bus), redis: environment.redis)
        if entries.isEmpty {
            print("the streams hold no entry about goal \(goal) (they keep bus.stream.keep = \(environment.bus.streamKeep) entries each beyond what every group acknowledged)")
        } else {
            print("what the streams still hold about goal \(goal), oldest first:")
            for entry in entries {
                let fields = entry.fields
                print(
                    "  \(entry.stream) \(entry.id)  \(fields["signal"] ?? "?")  at \((Int64(fields["at_ms"] ?? "") ?? 0) / 1000)"
                        + "  id \(fields["id"] ?? "?")  cause \(fields["cause"].flatMap { $0.isEmpty ? nil : $0 } ?? "-")  trace \(fields["trace"] ?? "?")"
                )
            }
        }
        if !flagged {
            print("to trace every chain of this goal from now on: goalctl goal trace \(goal) on  (or: redis-cli HSET \(Keys.goal(goal)) trace 1)")
        }
    }
}

/// Reads what the streams hold about one goal: entries whose `goal_id` is the goal, or whose channel is its.
enum GoalStreamScan {
    /// Entries scanned per stream at most: the newest ones.
    static let limit = 50_000

    /// The entries about `goal` in `streams`, oldest first by event time.
    static func entries(of goal: String, streams: [String], redis: any RedisCommandRunner) async throws -> [(stream: String, id: String, fields: [String: String])] {
        let channel = GoalChannel.channel(of: goal)
        var found: [(stream: String, id: String, fields: [String: String])] = []
        for stream in streams {
            var end = "+"
            var scanned = 0
            while scanned < limit {
                let page = try await redis.execute("XREVRANGE", stream, end, "-", "COUNT", 1000).array ?? []
                for entry in page {
                    guard let parts = entry.array, parts.count == 2, let id = parts[0].string else { continue }
                    let fields = parts[1].fieldMap
                    if fields["goal_id"] == goal || fields["channel"] == channel { found.append((stream, id, fields)) }
                    end = "(" + id
                }
                scanned += page.count
                if page.count < 1000 { break }
            }
        }
        return found.sorted { (Int64($0.fields["at_ms"] ?? "") ?? 0, $0.id) < (Int64($1.fields["at_ms"] ?? "") ?? 0, $1.id) }
    }
}

/// Draws a chain as the seed does: a signal, its receivers (in the seed's order), then what they caused.
enum TraceDrawing {
    static func draw(trace: String, records: [TraceRecord]) {
        let byMessage = Dictionary(grouping: records, by: \.message)
        print("trace \(trace)")
        var drawn: Set<String> = []
        if records.contains(where: { $0.message == trace }) {
            drawMessage(trace, byMessage: byMessage, depth: 0, drawn: &drawn)
        }
        // Deliveries recorded without their chain (a failure in a chain that is not traced).
        for record in records where !drawn.contains(record.message) {
            drawMessage(record.message, byMessage: byMessage, depth: 0, drawn: &drawn)
        }
    }

    private static func drawMessage(_ id: String, byMessage: [String: [TraceRecord]], depth: Int, drawn: inout Set<String>) {
        guard drawn.insert(id).inserted, let records = byMessage[id], let first = records.first else { return }
        let indent = String(repeating: "    ", count: depth)
        print("\(indent)- \(first.kind == "task" ? "Task" : "Signal") `\(first.signal)` at \(first.atMs / 1000) [\(id)]")
        let order = Catalogue.receivers(of: first.signal)
        let sorted = records.sorted { (order.firstIndex(of: $0.receiver) ?? 99, $0.group) < (order.firstIndex(of: $1.receiver) ?? 99, $1.group) }
        for record in sorted {
            let outcome = record.acted ? "" : " **returned** (\(record.reason))"
            print("\(indent)    - \(record.receiver) [\(record.group)]\(outcome)")
            if let error = record.error { print("\(indent)        ! \(error)") }
            for write in record.writes { print("\(indent)        · \(write)") }
            for published in record.published {
                drawMessage(published.id, byMessage: byMessage, depth: depth + 2, drawn: &drawn)
            }
        }
    }
}
