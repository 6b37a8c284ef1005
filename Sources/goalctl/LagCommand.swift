import ArgumentParser
import Foundation
import GoalDomain
import Redis
import SignalBus

struct LagCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "lag", abstract: "Show each group's lag and pending count per stream.")

    @Flag(help: "Print a JSON array: one object per group and stream (stream, group, lag, pending, length).") var json = false

    /// One row of `goalctl lag`.
    struct Row: Encodable {
        let stream: String
        let group: String
        /// `nil` (JSON `null`) when Redis cannot tell.
        let lag: Int?
        let pending: Int
        let length: Int

        enum CodingKeys: String, CodingKey {
            case stream, group, lag, pending, length
        }

        /// Every key in every row; an unknown lag is `null`.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(stream, forKey: .stream)
            try container.encode(group, forKey: .group)
            try container.encode(lag, forKey: .lag)
            try container.encode(pending, forKey: .pending)
            try container.encode(length, forKey: .length)
        }
    }

    func run() async throws {
        let environment = try await Environment.load()
        var rows: [Row] = []
        for stream in Catalogue.topics.flatMap(environment.bus.streamKeys(of:)) {
            let length = try await environment.redis.execute("XLEN", stream).int ?? 0
            let groups = (try? await environment.redis.execute("XINFO", "GROUPS", stream))?.array ?? []
            for info in groups {
                let fields = info.pairs
                rows.append(Row(
                    stream: stream, group: fields["name"]?.string ?? "?", lag: fields["lag"]?.int, pending: fields["pending"]?.int ?? 0, length: length
                ))
            }
        }
        if json { return try JSONOutput.print(rows) }
        print("stream".padding(toLength: 34, withPad: " ", startingAt: 0) + "group".padding(toLength: 10, withPad: " ", startingAt: 0) + "   lag  pending  length")
        for row in rows {
            print(row.stream.padding(toLength: 34, withPad: " ", startingAt: 0) + row.group.padding(toLength: 10, withPad: " ", startingAt: 0)
                + (row.lag.map(String.init) ?? "?").leftPadded(6) + String(row.pending).leftPadded(9) + String(row.length).leftPadded(8))
        }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
