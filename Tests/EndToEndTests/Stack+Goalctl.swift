import Foundation
import RedisTestSupport

extension Stack {
    /// Runs `goalctl` with `arguments` against this stack, its standard output apart from its standard error
    /// (where progress goes), neither of them a terminal.
    func goalctlSeparately(_ arguments: [String], timeout: Duration = .seconds(120)) async throws -> (status: Int32?, stdout: String, stderr: String) {
        let out = "\(logDirectory)/goalctl-out-\(UUID().uuidString)"
        let err = "\(logDirectory)/goalctl-err-\(UUID().uuidString)"
        var environment = environment
        environment["GOALCTL_STDERR"] = err
        let process = try ChildProcess(
            executable: "/bin/sh", arguments: ["-c", #"exec "$0" "$@" 2>"$GOALCTL_STDERR""#, "\(binaries)/goalctl"] + arguments,
            environment: environment, logPath: out
        )
        let status = await process.wait(timeout: timeout)
        if status == nil { process.killNow() }
        return (status, (try? String(contentsOfFile: out, encoding: .utf8)) ?? "", (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
    }

    /// Runs `goalctl <arguments> --json`, expects success, and parses its output: one JSON object or array.
    func goalctlJSON(_ arguments: [String], timeout: Duration = .seconds(120)) async throws -> Any {
        let run = try await goalctlSeparately(arguments + ["--json"], timeout: timeout)
        guard run.status == 0 else {
            throw TestServerError(message: "goalctl \(arguments.joined(separator: " ")) --json exited \(run.status.map(String.init) ?? "(timed out)"):\n\(run.stdout)\n\(run.stderr)")
        }
        return try JSONSerialization.jsonObject(with: Data(run.stdout.utf8))
    }
}
