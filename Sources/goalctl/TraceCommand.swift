import ArgumentParser
import Foundation
import GoalDomain
import Redis
import SignalBus

struct TraceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Draw the chains that touched a goal: each signal, each receiver in order, acted or returned and why, what it changed."
    )

    @Argument(help: "Goal id.") var goal: String
    @Flag(help: "Print the raw records as JSON lines.") var json = false

    func run() async throws {
        let environment = try await Environment.load()
        let traces = try await environment.redis.execute("ZRANGE", Keys.goalTraces(goal), 0, -1).array?.compactMap(\.string) ?? []
        guard !traces.isEmpty else {
            print("no traces for goal \(goal) (traces expire after trace.seconds)")
            return
        }
        let groups = Catalogue.groups().map(\.name)
        for trace in traces {
            let records = try await ChainTrace.records(
                trace: trace, groups: groups, partition: environment.bus.partition(of: goal), redis: environment.redis
            )
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = .sortedKeys
                for record in records { print(String(decoding: try encoder.encode(record), as: UTF8.self)) }
                continue
            }
            TraceDrawing.draw(trace: trace, records: records)
        }
    }
}

/// Draws a chain as the seed does: a signal, its receivers (in the seed's order), then what they caused.
enum TraceDrawing {
    static func draw(trace: String, records: [TraceRecord]) {
        let byMessage = Dictionary(grouping: records, by: \.message)
        guard let root = records.first(where: { $0.cause.isEmpty }) ?? records.first else { return }
        print("trace \(trace)")
        drawMessage(root.message, byMessage: byMessage, depth: 0)
    }

    private static func drawMessage(_ id: String, byMessage: [String: [TraceRecord]], depth: Int) {
        guard let records = byMessage[id], let first = records.first else { return }
        let indent = String(repeating: "    ", count: depth)
        print("\(indent)- \(first.kind == "task" ? "Task" : "Signal") `\(first.signal)` at \(first.atMs / 1000) [\(id)]")
        let order = Catalogue.receivers(of: first.signal)
        let sorted = records.sorted { (order.firstIndex(of: $0.receiver) ?? 99, $0.group) < (order.firstIndex(of: $1.receiver) ?? 99, $1.group) }
        for record in sorted {
            let outcome = record.acted ? "" : " **returned** (\(record.reason))"
            print("\(indent)    - \(record.receiver) [\(record.group)]\(outcome)")
            for write in record.writes { print("\(indent)        · \(write)") }
            for published in record.published {
                drawMessage(published.id, byMessage: byMessage, depth: depth + 2)
            }
        }
    }
}
