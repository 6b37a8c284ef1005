import Foundation
import Redis
import RedisTestSupport
import Testing

/// `goalctl top` in a real terminal: a private tmux server runs it, `send-keys` types, `capture-pane` reads
/// the screen.
struct TmuxTerminal {
    private let socket = "goal-signals-\(UUID().uuidString.prefix(8))"
    private let scratch: String
    let session = "top"

    /// Starts a tmux server with one 200×60 window running `command` (a shell command line).
    init(command: String, scratch: String) async throws {
        self.scratch = scratch
        try await tmux(["new-session", "-d", "-s", session, "-x", "200", "-y", "60", command])
    }

    /// The screen's text now.
    func screen() async throws -> String {
        try await tmux(["capture-pane", "-p", "-t", session])
    }

    /// Types `keys` (tmux key names, e.g. `q`, `C-c`).
    func send(_ keys: String) async throws {
        try await tmux(["send-keys", "-t", session, keys])
    }

    /// Whether the window's program is still running.
    func isRunning() async -> Bool { (try? await tmux(["has-session", "-t", session])) != nil }

    /// Stops this tmux server (and what it still runs).
    func stop() async {
        _ = try? await tmux(["kill-server"])
    }

    /// Runs one tmux command on this server; its output goes through a file, since the server it may start
    /// keeps whatever it inherited open.
    @discardableResult
    private func tmux(_ arguments: [String]) async throws -> String {
        let output = "\(scratch)/tmux-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: output) }
        let process = try ChildProcess(executable: "/usr/bin/env", arguments: ["tmux", "-L", socket, "-f", "/dev/null"] + arguments, logPath: output)
        guard let status = await process.wait(timeout: .seconds(10)) else {
            process.killNow()
            throw TestServerError(message: "tmux \(arguments.joined(separator: " ")) did not answer")
        }
        guard status == 0 else {
            throw TestServerError(message: "tmux \(arguments.joined(separator: " ")) exited \(status) (make test installs tmux)")
        }
        return (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
    }
}

@Suite("End to end: goalctl top in a terminal while traffic runs")
struct TopTerminalTests {
    /// Runs `goalctl top` against `stack` in a new tmux terminal while `body` runs, then stops the terminal;
    /// `body` gets the terminal and the file where the shell writes top's exit status when it ends.
    func withTop(_ stack: Stack, _ body: (TmuxTerminal, _ statusFile: String) async throws -> Void) async throws {
        let status = "\(stack.logDirectory)/top-status-\(UUID().uuidString)"
        let exports = ["REDIS_URL", "CONFIG_FILE", "HTTP_HOST", "HTTP_PORT", "PUSHER_APP_KEY", "PUSHER_APP_SECRET", "PATH", "HOME"]
            .compactMap { name in stack.environment[name].map { "\(name)='\($0)'" } }.joined(separator: " ")
        let command = "env TERM=xterm \(exports) '\(stack.binaries)/goalctl' top; echo $? > '\(status)'"
        let terminal = try await TmuxTerminal(command: command, scratch: stack.logDirectory)
        do {
            try await stack.waitFor("top's first screen") { try await terminal.screen().contains("STREAM") }
            try await body(terminal, status)
        } catch {
            await terminal.stop()
            throw error
        }
        await terminal.stop()
    }

    /// What the shell wrote as top's exit status.
    func exitStatus(_ file: String) throws -> String {
        try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("the screen shows streams, groups, chains ended with their latency and Redis memory and follows the traffic; q and Ctrl-C quit with status 0; off a terminal, plain lines; a Redis restart outlived")
    func liveScreen() async throws {
        try await Stack.with { stack in
            let redis = stack.client()
            let goals = 20
            let created = try await stack.goalctl(["goal", "create", "top", "--count", String(goals), "--target", "5"])
            #expect(created.status == 0, "\(created.output)")
            try await withTop(stack) { terminal, status in
                let idle = try await terminal.screen()
                for heading in ["goalctl top", "LENGTH", "IN/s", "OUT/s", "DEAD", "GROUP", "LAG", "PENDING", "OLDEST", "ALIVE", "BACKLOG/LIMIT", "CHAINS", "REDIS   memory"] {
                    #expect(idle.contains(heading), "\(heading) on the screen:\n\(idle)")
                }
                #expect(idle.contains("(0 in the last 60 s)"), "no chain ended yet:\n\(idle)")

                // Traffic while top runs: every goal occupied, then vacated 10 s later (target 5 s): each chain ends.
                let t = Int64(Date().timeIntervalSince1970) - 12
                for index in 1...goals {
                    #expect(try await stack.post(Stack.body("channel_occupied", goal: "top-\(index)", atSeconds: t)).0 == 200)
                }
                for index in 1...goals {
                    #expect(try await stack.post(Stack.body("channel_vacated", goal: "top-\(index)", atSeconds: t + 10)).0 == 200)
                }
                try await stack.waitFor("every chain to end") { try await integer(redis, "XLEN", "signal:goal.ended") == goals }
                try await stack.waitFor("top to count the \(goals) chains and their latency") {
                    let screen = try await terminal.screen()
                    return screen.contains("(\(goals) in the last 60 s)") && !screen.contains("p50 -")
                }
                try await stack.waitFor("the groups to settle on screen") {
                    // GROUP LAG PENDING …: both 0 for every group.
                    let rows = try await terminal.screen().split(separator: "\n").map { $0.split(separator: " ") }
                        .filter { ["karaoke", "goals", "sessions", "escrow", "tracking"].contains($0.first ?? "") }
                    return rows.count == 5 && rows.allSatisfy { $0.count > 2 && $0[1] == "0" && $0[2] == "0" }
                }
                let busy = try await terminal.screen()
                let endedRow = try #require(busy.split(separator: "\n").first { $0.hasPrefix("signal:goal.ended ") }, "\(busy)")
                #expect(endedRow.split(separator: " ")[1] == "\(goals)", "goal.ended's length: \(endedRow)")
                for group in ["karaoke", "goals", "sessions", "escrow", "tracking"] {
                    let row = busy.split(separator: "\n").first { $0.hasPrefix(group + " ") }
                    #expect(row?.contains(" 1/1 ") == true, "\(group)'s one replica alive: \(row ?? "missing")\n\(busy)")
                }

                // Off a terminal: plain lines, one block per refresh, no escape sequences.
                let plain = try await stack.goalctlSeparately(["top", "--count", "2", "--interval", "0.2"])
                #expect(plain.status == 0)
                #expect(!plain.stdout.contains("\u{1B}"), "no escape sequences off a terminal")
                #expect(plain.stdout.components(separatedBy: "goalctl top").count - 1 == 2, "two refreshes:\n\(plain.stdout)")
                let plainRow = plain.stdout.split(separator: "\n").last { $0.hasPrefix("signal:goal.ended ") }
                #expect(plainRow?.split(separator: " ")[1] == "\(goals)", "\(plain.stdout)")

                // Left open, top outlives a Redis restart.
                stack.redis.kill()
                try await stack.waitFor("top to say Redis cannot be read") { try await terminal.screen().contains("Redis cannot be read") }
                try await stack.restartRedis()
                try await stack.waitFor("top to read Redis again") {
                    let screen = try await terminal.screen()
                    return screen.contains("STREAM") && !screen.contains("Redis cannot be read")
                }

                try await terminal.send("q")
                try await stack.waitFor("top to quit on q") { await !terminal.isRunning() }
                #expect(try exitStatus(status) == "0")
            }
            try await withTop(stack) { terminal, status in
                try await terminal.send("C-c")
                try await stack.waitFor("top to quit on Ctrl-C") { await !terminal.isRunning() }
                #expect(try exitStatus(status) == "0")
            }
        }
    }
}
