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

    public func send(_ commands: [RedisCommand], timeout: Duration?) throws(RedisError) -> [RedisValue] {
        guard !commands.isEmpty else { return [] }
        var order: [ClusterNode] = []
        var shares: [ClusterNode: [Int]] = [:]
        for (index, command) in commands.enumerated() {
            guard let node = client.cachedNode(serving: try command.clusterSlot()) else {
                return try wait(commands, timeout: timeout)
            }
            if shares[node] == nil { order.append(node) }
            shares[node, default: []].append(index)
        }
        var replies = [RedisValue](repeating: .null, count: commands.count)
        var redirected: [Int] = []
        for node in order {
            let indices = shares[node]!
            let connection = connections[node] ?? RedisConnection(configuration: client.configuration(of: node))
            connections[node] = connection
            do throws(RedisError) {
                for (index, reply) in zip(indices, try connection.send(indices.map { commands[$0] }, timeout: timeout)) {
                    if ClusterRedirect(reply, from: node) != nil {
                        redirected.append(index)
                    } else {
                        replies[index] = reply
                    }
                }
            } catch where error.code == .connect {
                connections[node] = nil
                redirected += indices
            }
        }
        redirected.sort()
        for (index, reply) in zip(redirected, try wait(redirected.map { commands[$0] }, timeout: timeout)) {
            replies[index] = reply
        }
        return replies
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
