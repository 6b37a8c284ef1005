/// The script calls of one ``PublishQueue`` round trip: the messages of every caller taken, grouped by
/// partition in the order they came, each partition's in calls of at most `limit` messages.
///
/// A caller's share of one partition is never split between calls, so each caller's messages are stored
/// atomically per partition, as ``Publisher/publish(_:)`` stores them; a share larger than `limit` goes
/// alone in a call of its own. A partition's calls keep the callers' order, so of two callers publishing
/// the same message, the first stores it and the second is told it is a retry.
struct PublishBatch {
    /// Where one message of a call came from.
    struct Slot {
        /// The caller, by its position in the batch.
        let request: Int
        /// The message, by its position in the caller's messages.
        let message: Int
    }

    /// One publish script call.
    struct Call {
        let partition: Partition?
        var messages: [OutgoingMessage] = []
        /// Each message's caller and position, in the order of ``messages``.
        var slots: [Slot] = []
    }

    private(set) var calls: [Call] = []

    /// Plans the calls for `requests`, each one caller's messages.
    init(_ requests: [[OutgoingMessage]], configuration: BusConfiguration, limit: Int) {
        // The call of each partition that is still being filled.
        var open: [Partition?: Int] = [:]
        for (request, messages) in requests.enumerated() {
            for (partition, indices) in Self.shares(of: messages, configuration: configuration) {
                let index: Int
                if let current = open[partition], calls[current].messages.count + indices.count <= limit {
                    index = current
                } else {
                    index = calls.count
                    calls.append(Call(partition: partition))
                    open[partition] = index
                }
                for position in indices {
                    calls[index].messages.append(messages[position])
                    calls[index].slots.append(Slot(request: request, message: position))
                }
            }
        }
    }

    /// The positions of `messages` in each partition, partitions in the order of their first message.
    private static func shares(of messages: [OutgoingMessage], configuration: BusConfiguration) -> [(Partition?, [Int])] {
        guard configuration.partitions > 0 else { return [(nil, Array(messages.indices))] }
        var shares: [(Partition?, [Int])] = []
        for (position, message) in messages.enumerated() {
            let partition = configuration.partition(of: message.routingKey ?? message.id)
            if let share = shares.firstIndex(where: { $0.0 == partition }) {
                shares[share].1.append(position)
            } else {
                shares.append((partition, [position]))
            }
        }
        return shares
    }
}
