import Foundation
import RedisTestSupport
import Testing

@Suite("End to end: goalctl's shell completions")
struct CompletionTests {
    /// Completes `words` (the last one being typed) with goalctl's bash completion script, as bash would.
    func complete(_ words: [String], script: String, binaries: String, scratch: String) async throws -> [String] {
        let output = "\(scratch)/completion-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: output) }
        let line = words.joined(separator: " ")
        let program = """
            source '\(script)'
            COMP_WORDS=(\(words.map { "'\($0)'" }.joined(separator: " "))); COMP_CWORD=\(words.count - 1)
            COMP_LINE='\(line)'; COMP_POINT=${#COMP_LINE}
            function=$(complete -p goalctl | sed -E 's/.*-F ([^ ]+).*/\\1/')
            "$function" goalctl '\(words.last!)' '\(words[words.count - 2])'
            printf '%s\\n' "${COMPREPLY[@]}"
            """
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = binaries + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        let process = try ChildProcess(executable: "/bin/bash", arguments: ["-c", program], environment: environment, logPath: output)
        #expect(await process.wait(timeout: .seconds(30)) == 0)
        return try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    @Test("the bash script swift-argument-parser generates completes goalctl's subcommands and options")
    func bash() async throws {
        let binaries = ProcessInfo.processInfo.environment["GOAL_SIGNALS_BIN"] ?? Stack.repositoryRoot + "/.build/debug"
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("goalctl-completion-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let script = "\(scratch)/goalctl.bash"
        let generated = try ChildProcess(executable: "\(binaries)/goalctl", arguments: ["--generate-completion-script", "bash"], logPath: script)
        #expect(await generated.wait(timeout: .seconds(30)) == 0)
        #expect(try await complete(["goalctl", "t"], script: script, binaries: binaries, scratch: scratch).sorted() == ["top", "trace"])
        let options = try await complete(["goalctl", "top", "--"], script: script, binaries: binaries, scratch: scratch)
        for option in ["--interval", "--count", "--json"] {
            #expect(options.contains(option), "goalctl top \(option) completes: \(options)")
        }
    }
}
