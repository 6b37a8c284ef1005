import Redis

/// Whether, in one atomic snapshot (`MULTI`/`EXEC`), every group has read every entry of its stream and
/// has nothing pending: nothing is in flight and nothing more will happen.
public func isSettled(_ client: RedisClient, _ pairs: [(stream: String, group: String)]) async throws -> Bool {
    let streams = Array(Set(pairs.map(\.stream))).sorted()
    var commands = [RedisCommand("MULTI")]
    for stream in streams {
        commands.append(RedisCommand("XINFO", "STREAM", stream))
        commands.append(RedisCommand("XINFO", "GROUPS", stream))
    }
    commands.append(RedisCommand("EXEC"))
    let replies = try await client.pipeline(commands)
    guard let exec = replies.last?.array, exec.count == streams.count * 2 else { return false }
    for (index, stream) in streams.enumerated() {
        guard let last = exec[2 * index].pairs["last-generated-id"]?.string else { return false }
        let groups = (exec[2 * index + 1].array ?? []).map(\.pairs)
        for pair in pairs where pair.stream == stream {
            guard let info = groups.first(where: { $0["name"]?.string == pair.group }),
                  info["pending"]?.int == 0, info["last-delivered-id"]?.string == last
            else { return false }
        }
    }
    return true
}
