import Foundation

/// Draws ``TopFigures`` as the lines of `goalctl top`'s screen (or of one refresh, when its output is not
/// a terminal).
public enum TopScreen {
    /// The lines of one refresh.
    /// - Parameters:
    ///   - figures: what to show.
    ///   - title: the first line's start (what is watched).
    public static func lines(_ figures: TopFigures, title: String) -> [String] {
        var lines = ["\(title)  \(clock(figures.timeMs))  \(figures.commands) commands/refresh"]
        lines.append("")
        let width = max(28, figures.streams.map(\.stream.count).max() ?? 0)
        lines.append(pad("STREAM", width) + left("LENGTH", 9) + left("IN/s", 9) + left("OUT/s", 9) + left("DEAD", 7))
        for stream in figures.streams {
            lines.append(pad(stream.stream, width) + left(String(stream.length), 9) + left(rate(stream.inPerSecond), 9)
                + left(rate(stream.outPerSecond), 9) + left(String(stream.deadLetters), 7))
        }
        lines.append("")
        lines.append(pad("GROUP", 10) + left("LAG", 9) + left("PENDING", 9) + left("OLDEST", 9) + left("ALIVE", 7) + left("OUT/s", 9)
            + "  BACKLOG/LIMIT (worst stream)")
        for group in figures.groups {
            let backlog = "\(group.backlog)/\(figures.backlogLimit) " + String(format: "%.1f%%", group.backlogRatio * 100)
                + (group.overLimit ? " OVER LIMIT" : "") + " (\(group.backlogStream))"
            lines.append(pad(group.group, 10) + left(String(group.lag), 9) + left(String(group.pending), 9)
                + left(group.oldestPendingSeconds.map { String(format: "%.1fs", $0) } ?? "-", 9)
                + left("\(group.consumersAlive)/\(group.consumers)", 7) + left(rate(group.outPerSecond), 9) + "  " + backlog)
        }
        lines.append("")
        let chains = figures.chains
        lines.append("CHAINS  ended \(rate(chains.completedPerSecond))/s   webhook→goal.ended p50 \(milliseconds(chains.latencyP50Ms))"
            + "  p99 \(milliseconds(chains.latencyP99Ms))  (\(chains.samples) in the last \(chains.windowSeconds) s)")
        let memory = figures.memory
        guard memory.servers > 0 else {
            lines.append("REDIS   memory unknown: INFO memory refused to this user")
            return lines
        }
        lines.append("REDIS   memory \(bytes(Double(memory.usedBytes)))"
            + (memory.maxBytes > 0 ? " of \(bytes(Double(memory.maxBytes)))" : " (no maxmemory)")
            + "  trend " + (memory.trendBytesPerMinute.map { ($0 < 0 ? "-" : "+") + bytes(abs($0)) + "/min" } ?? "-")
            + (memory.servers > 1 ? "  over \(memory.servers) masters" : ""))
        return lines
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }

    private static func left(_ text: String, _ width: Int) -> String {
        text.count >= width ? " " + text : String(repeating: " ", count: width - text.count) + text
    }

    private static func rate(_ value: Double?) -> String {
        value.map { String(format: "%.1f", $0) } ?? "-"
    }

    private static func milliseconds(_ value: Int64?) -> String {
        value.map { "\($0) ms" } ?? "-"
    }

    private static func bytes(_ value: Double) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = value
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(Int(value)) B" : String(format: "%.1f", value) + " " + units[unit]
    }

    private static func clock(_ timeMs: Int64) -> String {
        let seconds = Int(timeMs / 1000) % 86_400
        return String(format: "%02d:%02d:%02d UTC", seconds / 3600, seconds / 60 % 60, seconds % 60)
    }
}
