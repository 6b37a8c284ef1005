#if canImport(Glibc)
import Glibc
#endif

/// A process of the stack whose CPU time and memory the benchmark reads from `/proc`.
public struct StackProcess: Sendable, Hashable {
    /// The service name (`gateway`, `karaoke`, …, `redis-server`, `goalctl` for the load generator itself).
    public let name: String
    /// Its process id.
    public let pid: Int32

    /// A process by name and id.
    public init(name: String, pid: Int32) {
        self.name = name
        self.pid = pid
    }

    /// The services of the stack: processes named after one of `names` whose `REDIS_URL`, when their
    /// environment can be read and sets one, is `redisURL` (so another stack on the machine is left out).
    public static func discover(names: Set<String>, redisURL: String) -> [StackProcess] {
        guard let directory = opendir("/proc") else { return [] }
        defer { closedir(directory) }
        var found: [StackProcess] = []
        while let entry = readdir(directory) {
            let entryName = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let pid = Int32(entryName),
                  let comm = ProcFile.read("/proc/\(pid)/comm")?.split(separator: "\n").first.map(String.init),
                  names.contains(comm) else { continue }
            if let environment = ProcFile.read("/proc/\(pid)/environ") {
                let url = environment.split(separator: "\0").first { $0.hasPrefix("REDIS_URL=") }?.dropFirst("REDIS_URL=".count)
                if let url, url != redisURL { continue }
            }
            found.append(StackProcess(name: comm, pid: pid))
        }
        return found.sorted { ($0.name, $0.pid) < ($1.name, $1.pid) }
    }
}

/// CPU seconds used and memory held by one process at one moment.
struct ProcessSample: Sendable {
    /// User plus system CPU time, seconds, with that of its children it has waited for (Redis's AOF
    /// rewrites and snapshots run in forked children).
    let cpuSeconds: Double
    /// Peak resident set size so far (`VmHWM`), bytes.
    let peakRSS: Int

    /// Reads `/proc/<pid>/stat` and `/proc/<pid>/status`; `nil` when the process is gone.
    init?(pid: Int32) {
        guard let stat = ProcFile.read("/proc/\(pid)/stat"), let status = ProcFile.read("/proc/\(pid)/status") else { return nil }
        // Fields after the parenthesised command name: utime, stime, cutime and cstime are the 14th to
        // 17th of the line.
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 15 else { return nil }
        let ticks = fields[11...14].compactMap { Double($0) }
        guard ticks.count == 4 else { return nil }
        cpuSeconds = ticks.reduce(0, +) / Double(sysconf(Int32(_SC_CLK_TCK)))
        func kilobytes(_ field: String) -> Int {
            let line = status.split(separator: "\n").first { $0.hasPrefix(field + ":") }
            return (line?.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first.flatMap { Int($0) } ?? 0) * 1024
        }
        peakRSS = kilobytes("VmHWM")
    }
}

/// Whole small files from `/proc`.
enum ProcFile {
    static func read(_ path: String) -> String? {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            bytes += chunk[..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
