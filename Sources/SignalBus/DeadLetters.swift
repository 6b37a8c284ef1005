import Redis

/// Operator access to `dead:<stream>`.
public struct DeadLetters: Sendable {
    private let client: RedisClient

    /// Creates the accessor.
    public init(client: RedisClient) {
        self.client = client
    }

    /// Moves dead letters back onto their stream with their original envelope (so groups that already
    /// handled the message recognise it by its id), removing them from `dead:<stream>`.
    /// - Parameter entryID: one dead-letter entry, or all when `nil`.
    /// - Returns: how many were replayed.
    public func replay(topic: Topic, entryID: String?) async throws -> Int {
        let reply = try await client.run(Self.script, keys: [topic.deadLetterKey, topic.key], arguments: [entryID ?? ""])
        return reply.int ?? 0
    }

    static let script = RedisScript(#"""
        local entries
        if ARGV[1] == '' then
          entries = redis.call('XRANGE', KEYS[1], '-', '+')
        else
          entries = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
        end
        for _, entry in ipairs(entries) do
          local args, message = {'XADD', KEYS[2], '*'}, {}
          local fields = entry[2]
          for i = 1, #fields, 2 do
            if string.sub(fields[i], 1, 5) ~= 'dead.' then
              args[#args + 1] = fields[i]
              args[#args + 1] = fields[i + 1]
              message[fields[i]] = fields[i + 1]
            end
          end
          redis.call(unpack(args))
          redis.call('PUBLISH', KEYS[2], cjson.encode(message))
          redis.call('XDEL', KEYS[1], entry[1])
        end
        return #entries
        """#)
}
