import ArgumentParser
import Foundation
import GoalDomain
import Redis
import SignalBus

struct LagCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "lag", abstract: "Show each group's lag and pending count per stream.")

    func run() async throws {
        let environment = try await Environment.load()
        print("stream".padding(toLength: 34, withPad: " ", startingAt: 0) + "group".padding(toLength: 10, withPad: " ", startingAt: 0) + "   lag  pending  length")
        for stream in Catalogue.topics.flatMap(environment.bus.streamKeys(of:)) {
            let length = try await environment.redis.execute("XLEN", stream).int ?? 0
            let groups = (try? await environment.redis.execute("XINFO", "GROUPS", stream))?.array ?? []
            for info in groups {
                let fields = info.pairs
                let name = fields["name"]?.string ?? "?"
                let lag = fields["lag"]?.int.map(String.init) ?? "?"
                let pending = fields["pending"]?.int ?? 0
                print(stream.padding(toLength: 34, withPad: " ", startingAt: 0) + name.padding(toLength: 10, withPad: " ", startingAt: 0)
                    + lag.leftPadded(6) + String(pending).leftPadded(9) + String(length).leftPadded(8))
            }
        }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
