import Foundation
import Synchronization

/// A blocking link to a Redis Cluster for one thread of its own (see ``DedicatedThread``).
///
/// It sends each node's share of a pipeline on a connection of its own to that node, found with the slot
/// map of a ``RedisClusterClient``, so a call costs no hop between threads. Commands answered with a
/// redirect (`MOVED`, `ASK`, `TRYAGAIN`, `CLUSTERDOWN`), and those of a node that refuses the connection, are
/// sent again through the ``RedisClusterClient``, which follows redirects and waits out failovers; as there,
/// their replies are put back in place. A connection lost mid-pipeline is thrown as is: whether those
/// commands ran is unknown.
public final class ClusterLink: RedisLink {
    private let client: RedisClusterClient
    private var connections: [ClusterNode: RedisConnection] = [:]

    /// Creates a link sending through `client`'s slot map.
    public init(client: RedisClusterClient) {
        self.client = client
    }

    public var isCluster: Bool { true }

    public func send<Decoded>(
        _ commands: [RedisCommand], timeout: Duration?, decoding decode: (RedisReplyView) throws(RedisError) -> Decoded
    ) throws(RedisError) -> [Decoded] {
        guard !commands.isEmpty else { return [] }
        var order: [ClusterNode] = []
        var shares: [ClusterNode: [Int]] = [:]
        for (index, command) in commands.enumerated() {
            guard let node = client.cachedNode(serving: try command.clusterSlot()) else {
                return try Self.decode(wait(commands, timeout: timeout), with: decode)
            }
            if shares[node] == nil { order.append(node) }
            shares[node, default: []].append(index)
        }
        var replies = [Decoded?](repeating: nil, count: commands.count)
        var redirected: [Int] = []
        for node in order {
            let indices = shares[node]!
            let connection = connections[node] ?? RedisConnection(configuration: client.configuration(of: node))
            connections[node] = connection
            do throws(RedisError) {
                let answers = try connection.send(indices.map { commands[$0] }, timeout: timeout) { reply throws(RedisError) in
                    // Only an error reply can be a redirect: any other is decoded in place.
                    if let message = reply.errorMessage, ClusterRedirect(.error(message), from: node) != nil {
                        return Answer<Decoded>.redirected
                    }
                    return .decoded(try decode(reply))
                }
                for (index, answer) in zip(indices, answers) {
                    switch answer {
                    case .decoded(let value): replies[index] = value
                    case .redirected: redirected.append(index)
                    }
                }
            } catch where error.code == .connect {
                connections[node] = nil
                redirected += indices
            }
        }
        redirected.sort()
        let resent = try Self.decode(wait(redirected.map { commands[$0] }, timeout: timeout), with: decode)
        for (index, reply) in zip(redirected, resent) {
            replies[index] = reply
        }
        return replies.map { $0! }
    }

    /// A reply from a node's own connection: decoded, or to be sent again through the cluster client.
    private enum Answer<Decoded> {
        case decoded(Decoded)
        case redirected
    }

    /// Decodes replies that came back as values (through the cluster client) with a decoder of views.
    private static func decode<Decoded>(
        _ replies: [RedisValue], with decode: (RedisReplyView) throws(RedisError) -> Decoded
    ) throws(RedisError) -> [Decoded] {
        var decoded: [Decoded] = []
        decoded.reserveCapacity(replies.count)
        for reply in replies { decoded.append(try reply.withView(decode)) }
        return decoded
    }

    /// Sends `commands` through the cluster client and waits for it on this thread.
    private func wait(_ commands: [RedisCommand], timeout: Duration?) throws(RedisError) -> [RedisValue] {
        guard !commands.isEmpty else { return [] }
        let client = client
        let outcome = Mutex<Result<[RedisValue], RedisError>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            let result: Result<[RedisValue], RedisError>
            do throws(RedisError) {
                result = .success(try await client.pipeline(commands, timeout: timeout))
            } catch {
                result = .failure(error)
            }
            outcome.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        return try outcome.withLock { $0! }.get()
    }
}
