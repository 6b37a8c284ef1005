import Logging
import Redis
import ServiceLifecycle

/// One replica of a receiver group: a uniquely named consumer in the group's consumer group on each of
/// its streams, run as a `Service`.
///
/// It reads all the group's streams with one blocking `XREADGROUP`, handles each message by running the
/// group's receivers and committing their effects atomically (``CommitScript``), claims messages left
/// pending by dead replicas, moves messages that keep failing to `dead:<stream>`, and on graceful shutdown
/// finishes the batch in hand and returns.
///
/// Redis is used through one ``RedisClient`` of its own: the consumer runs on that client's dedicated
/// thread for its whole life, so the blocking reads, the receivers and the commits never occupy a thread of
/// Swift's cooperative pool, and no message pays for a hop between threads.
///
/// On a Redis Cluster the streams are partitioned (``BusConfiguration/partitions``) and the consumer runs
/// one worker per partition, each on a thread of its own with a ``RedisClusterClient`` of its own, so a
/// partition's blocking read waits on that partition's master only.
public struct GroupConsumer: Service {
    /// The group this consumer belongs to.
    public let group: ReceiverGroup
    /// Where Redis is.
    public let redis: RedisEndpoint
    /// Batch, claim and dead-letter settings.
    public let configuration: BusConfiguration
    /// This consumer's name inside the group; unique per replica.
    public let consumerName: String
    private let logger: Logger

    /// Creates a consumer; nothing happens until ``run()``.
    public init(group: ReceiverGroup, redis: RedisEndpoint, configuration: BusConfiguration = BusConfiguration(), consumerName: String? = nil, logger: Logger) {
        self.group = group
        self.redis = redis
        self.configuration = configuration
        self.consumerName = consumerName ?? ConsumerName.unique(group: group.name)
        var logger = logger
        logger[metadataKey: "group"] = .string(group.name)
        logger[metadataKey: "consumer"] = .string(self.consumerName)
        self.logger = logger
    }

    /// Consumes until graceful shutdown; then finishes the messages in hand and returns.
    /// - Throws: ``RedisError`` with code ``RedisError/Code/configuration`` on a cluster with no partitions.
    public func run() async throws {
        // On a cluster: one worker per partition, each with a cluster client of its own.
        var partitions: [(Partition, RedisClusterClient)] = []
        if case .cluster(let seeds) = redis {
            guard configuration.partitions > 0 else {
                throw RedisError(code: .configuration, message: "on a Redis Cluster the streams must be partitioned, and bus.partitions is 0")
            }
            for partition in Partition.all(configuration.partitions) {
                partitions.append((partition, try RedisClusterClient(seeds: seeds, name: "\(group.name)-p\(partition.index)")))
            }
        }
        let stop = StopSignal()
        let (group, redis, configuration, consumerName, logger) = (group, redis, configuration, consumerName, logger)
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                switch redis {
                case .server(let server):
                    let client = RedisClient(configuration: server, name: "\(group.name)-consumer")
                    await client.withConnection { connection in
                        ConsumerWorker(
                            group: group, connection: connection, partition: nil, configuration: configuration,
                            consumerName: consumerName, stop: stop, logger: logger
                        ).run()
                    }
                case .cluster:
                    await withTaskGroup(of: Void.self) { workers in
                        for (partition, cluster) in partitions {
                            workers.addTask {
                                var logger = logger
                                logger[metadataKey: "partition"] = "\(partition.index)"
                                await DedicatedThread(name: "\(group.name)-p\(partition.index)").run {
                                    ConsumerWorker(
                                        group: group, connection: ClusterLink(client: cluster), partition: partition,
                                        configuration: configuration, consumerName: consumerName, stop: stop, logger: logger
                                    ).run()
                                }
                            }
                        }
                    }
                }
            } onCancel: {
                stop.raise()
            }
        } onGracefulShutdown: {
            stop.raise()
        }
    }
}
