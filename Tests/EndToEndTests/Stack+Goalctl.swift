import Foundation
import RedisTestSupport

/// The folder of the executables under test: `GOAL_SIGNALS_BIN`, else the debug build.
let goalSignalsBinaries = ProcessInfo.processInfo.environment["GOAL_SIGNALS_BIN"] ?? Stack.repositoryRoot + "/.build/debug"

/// Runs `goalctl` with `arguments` and `environment`, its standard output apart from its standard error
/// (where progress goes), neither of them a terminal; their files go in `scratch`.
func runGoalctl(
    _ arguments: [String], environment: [String: String], scratch: String, timeout: Duration = .seconds(120)
) async throws -> (status: Int32?, stdout: String, stderr: String) {
    let out = "\(scratch)/goalctl-out-\(UUID().uuidString)"
    let err = "\(scratch)/goalctl-err-\(UUID().uuidString)"
    defer {
        try? FileManager.default.removeItem(atPath: out)
        try? FileManager.default.removeItem(atPath: err)
    }
    var environment = environment
    environment["GOALCTL_STDERR"] = err
    let process = try ChildProcess(
        executable: "/bin/sh", arguments: ["-c", #"exec "$0" "$@" 2>"$GOALCTL_STDERR""#, "\(goalSignalsBinaries)/goalctl"] + arguments,
        environment: environment, logPath: out
    )
    let status = await process.wait(timeout: timeout)
    if status == nil { process.killNow() }
    return (status, (try? String(contentsOfFile: out, encoding: .utf8)) ?? "", (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
}

/// Runs `goalctl <arguments> --json`, expects success, and parses its output: one JSON object or array.
func runGoalctlJSON(_ arguments: [String], environment: [String: String], scratch: String, timeout: Duration = .seconds(120)) async throws -> Any {
    let run = try await runGoalctl(arguments + ["--json"], environment: environment, scratch: scratch, timeout: timeout)
    guard run.status == 0 else {
        throw TestServerError(message: "goalctl \(arguments.joined(separator: " ")) --json exited \(run.status.map(String.init) ?? "(timed out)"):\n\(run.stdout)\n\(run.stderr)")
    }
    return try JSONSerialization.jsonObject(with: Data(run.stdout.utf8))
}

extension Stack {
    /// Runs `goalctl` against this stack; see ``runGoalctl(_:environment:scratch:timeout:)``.
    func goalctlSeparately(_ arguments: [String], timeout: Duration = .seconds(120)) async throws -> (status: Int32?, stdout: String, stderr: String) {
        try await runGoalctl(arguments, environment: environment, scratch: logDirectory, timeout: timeout)
    }

    /// Runs `goalctl <arguments> --json` against this stack and parses its output.
    func goalctlJSON(_ arguments: [String], timeout: Duration = .seconds(120)) async throws -> Any {
        try await runGoalctlJSON(arguments, environment: environment, scratch: logDirectory, timeout: timeout)
    }
}
