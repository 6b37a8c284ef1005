import ArgumentParser
import Foundation
import GoalDomain
import OperatorConsole
import Redis
import SignalBus
import UnixSignals

/// `goalctl top`: the bus live, refreshed every second.
struct TopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "top",
        abstract: "Watch the bus live: streams in and out, groups' backlog, dead letters, chains ended and their latency, Redis memory.",
        discussion: """
            Refreshes every --interval seconds until q or Ctrl-C, and keeps trying while Redis cannot be read; when its \
            output is not a terminal it prints each refresh as plain lines instead (stop it with Ctrl-C, or give --count). \
            It reads Redis only, and works on a \
            cluster. Per refresh, pipelined: TIME; per stream XINFO STREAM <key> FULL COUNT 1 and XLEN dead:<key>; \
            per goal.ended stream XREVRANGE <key> + (<last seen> COUNT 200; then EXISTS heartbeat:<group>:<consumer> \
            per consumer; and INFO memory on each server (each master of a cluster). The first line says how many \
            commands that was (36 on one server with one replica per group). Rates are per second since the previous refresh. Chain \
            latency is the time from a goal.ended entry's at_ms (the webhook's event time at the chain's root) to its \
            stream entry id's time (when goal.ended was written), p50 and p99 over the last 60 s of Redis time.
            """
    )

    @Option(help: "Seconds between refreshes.") var interval: Double = 1
    @Option(help: "Stop after this many refreshes (default: until q or Ctrl-C).") var count: Int?
    @Flag(help: "Print one JSON object (two refreshes --interval apart, so rates are known) and exit.") var json = false

    func validate() throws {
        guard interval >= 0.1 else { throw ValidationError("--interval must be at least 0.1 s") }
        if let count, count < 1 { throw ValidationError("--count must be at least 1") }
    }

    func run() async throws {
        let environment = try await Environment.load()
        let ended = environment.bus.streamKeys(of: Topics.goalEnded)
        var servers: [any RedisCommandRunner] = [environment.redis]
        if case .cluster(let seeds) = environment.endpoint {
            servers = try await ClusterMasters.clients(of: environment.redis, template: seeds[0])
        }
        let firstReader = ConsoleReader(redis: environment.redis, streams: BusStreams.all(environment.bus), endedStreams: ended, servers: servers)
        let firstHistory = TopHistory(backlogLimit: environment.bus.backlogLimit, endedStreams: ended)
        if json {
            var reader = firstReader
            var history = firstHistory
            _ = history.add(try await reader.read())
            try await Task.sleep(for: .seconds(interval))
            try JSONOutput.print(history.add(try await reader.read()))
            return
        }
        let title = "goalctl top · \(environment.endpoint) · q quits"
        let terminal = Terminal.isTerminal ? Terminal() : nil
        defer { terminal?.restore() }
        let refreshes = count
        let pause = interval
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                for await _ in await UnixSignalsSequence(trapping: .sigint, .sigterm) { return }
            }
            tasks.addTask {
                var reader = firstReader
                var history = firstHistory
                var shown = 0
                while refreshes.map({ shown < $0 }) ?? true {
                    // Left open, top outlives a Redis restart: it says so and tries again at the next refresh.
                    let lines: [String]
                    do {
                        lines = TopScreen.lines(history.add(try await reader.read()), title: title)
                    } catch {
                        lines = [title, "", "Redis cannot be read: \(error); trying again every \(pause) s"]
                    }
                    shown += 1
                    guard let terminal else {
                        FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n\n").utf8))
                        if refreshes.map({ shown < $0 }) ?? true { try await Task.sleep(for: .seconds(pause)) }
                        continue
                    }
                    terminal.draw(lines)
                    if try await Self.waitForQuit(terminal, for: pause) { return }
                }
            }
            try await tasks.next()
            tasks.cancelAll()
        }
    }

    /// Waits `seconds`, reading keys every 50 ms; answers whether `q` or Ctrl-C was typed.
    private static func waitForQuit(_ terminal: Terminal, for seconds: Double) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            while let key = terminal.key() {
                if key == UInt8(ascii: "q") || key == UInt8(ascii: "Q") || key == 3 { return true }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }
}
