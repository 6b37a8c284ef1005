import Redis

/// Publishes messages from outside a receiver: each is one `XADD` to its stream and one `PUBLISH` of the
/// same message as JSON on the channel of that name, all of a call's messages in one atomic script.
public struct Publisher: Sendable {
    private let client: RedisClient
    private let configuration: BusConfiguration
    /// How long a dedup key is kept, in seconds.
    private let dedupSeconds: Int

    /// Creates a publisher writing through `client`.
    /// - Parameter dedupSeconds: how long a message's dedup key marks it as published.
    public init(client: RedisClient, configuration: BusConfiguration = BusConfiguration(), dedupSeconds: Int = 900) {
        self.client = client
        self.configuration = configuration
        self.dedupSeconds = dedupSeconds
    }

    /// Publishes the messages atomically.
    /// - Returns: for each message, `true` when it was stored, `false` when its dedup key showed it was
    ///   published before (a retry).
    public func publish(_ messages: [OutgoingMessage]) async throws(RedisError) -> [Bool] {
        guard !messages.isEmpty else { return [] }
        let reply = try await client.execute(Self.command(for: messages, maxLength: configuration.streamMaxLength, dedupSeconds: dedupSeconds))
        guard let flags = reply.array?.compactMap(\.int), flags.count == messages.count else {
            throw RedisError(code: .protocolError, message: "unexpected publish reply \(reply)")
        }
        return flags.map { $0 == 1 }
    }

    static func command(for messages: [OutgoingMessage], maxLength: Int, dedupSeconds: Int) -> RedisCommand {
        var keys = KeyTable()
        var arguments = [String(maxLength), String(dedupSeconds), String(messages.count)]
        for message in messages {
            if let dedupKey = message.dedupKey {
                arguments += ["1", keys.index(of: dedupKey)]
            } else {
                arguments.append("0")
            }
            let fields = message.fields
            arguments += [keys.index(of: message.topic.key), String(fields.count / 2)]
            arguments += fields
        }
        return script.evalSHA(keys: keys.keys, arguments: arguments)
    }

    static let script = BusLua.script(#"""
        local maxlen, ttl = take(), take()
        local stored = {}
        for n = 1, tonumber(take()) do
          local fresh = true
          if take() == '1' then
            fresh = redis.call('SET', takeKey(), '1', 'NX', 'EX', ttl) ~= false
          end
          local key, fields = takeKey(), takeFields()
          if fresh then
            announce(key, maxlen, fields)
            stored[n] = 1
          else
            stored[n] = 0
          end
        end
        return stored
        """#)
}
