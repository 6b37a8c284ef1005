import Redis

/// Trims streams without losing work: a stream is cut only below the oldest entry that some consumer group on
/// it (any group `XINFO GROUPS` lists, ours or anyone's) has not acknowledged, and beyond that keeps its
/// newest ``BusConfiguration/streamKeep`` entries for inspection. A stream no group reads (a sink) keeps just
/// its newest `streamKeep`. Never given `escrow:ledger` or a dead-letter stream.
///
/// Sans-I/O: ``commands()`` gives the `EVALSHA` per stream and ``record(_:)`` reads their replies, so a
/// consumer's blocking connection and the gateway's asynchronous client drive it alike.
///
/// To keep `streamKeep` entries without counting them (`XRANGE` over thousands of entries per pass), the
/// trimmer remembers, per stream, the stream's last id at each count of entries ever added
/// (`entries-added`): the id remembered at `added − keep` or earlier is a cut that keeps at least `keep`
/// entries. The boundary so found is one pass behind the stream, and right after a start nothing is
/// remembered yet: a stream a group lags on is trimmed only once it has grown by `keep` entries since, while
/// one every group has caught up on is trimmed to `keep` at once.
public final class StreamTrimmer {
    /// The streams trimmed, in order.
    public let streams: [String]
    private let keep: Int
    /// Per stream, `(entries-added, last id)` as seen, oldest first.
    private var samples: [String: [(added: Int, id: String)]] = [:]

    /// A trimmer of `streams`, keeping `keep` entries beyond what every group acknowledged.
    public init(streams: [String], keep: Int) {
        self.streams = streams
        self.keep = keep
    }

    /// One trim call per stream, to send in one pipeline.
    public func commands() -> [RedisCommand] {
        streams.map { stream in
            Self.script.evalSHA(keys: [stream], arguments: [keep, boundary(stream) ?? ""])
        }
    }

    /// Reads the replies of ``commands()``, in order; returns how many entries were trimmed in all.
    @discardableResult
    public func record(_ replies: [RedisValue]) throws(RedisError) -> Int {
        var trimmed = 0
        for (stream, reply) in zip(streams, replies) {
            guard let parts = try reply.checked().array, parts.count == 3, let added = parts[0].int, let id = parts[1].string else { continue }
            trimmed += parts[2].int ?? 0
            var known = samples[stream, default: []]
            if known.last?.added != added && !id.isEmpty { known.append((added, id)) }
            // Only the newest sample at or before the boundary is still of use.
            if let usable = known.lastIndex(where: { $0.added <= added - keep }), usable > 0 {
                known.removeFirst(usable)
            }
            samples[stream] = known
        }
        return trimmed
    }

    /// The id below which the stream still holds at least `keep` newer entries, if one is known.
    private func boundary(_ stream: String) -> String? {
        guard let known = samples[stream], let latest = known.last else { return nil }
        return known.last { $0.added <= latest.added - keep }?.id
    }

    /// Trims `KEYS[1]`, keeping `ARGV[1]` entries beyond the oldest unacknowledged one, with `ARGV[2]` the
    /// keep boundary (or empty when none is known). Answers `{entries-added, last-generated-id, trimmed}`.
    static let script = BusLua.script("trim")
}
