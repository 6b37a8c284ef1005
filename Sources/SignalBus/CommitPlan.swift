import Redis

/// How a handled message is committed.
///
/// On one server it is one ``CommitPart``. In a Redis Cluster it is one part per hash slot it touches, run
/// in order; the parts outside the stream's slot each claim a marker kept for the redelivery horizon only:
/// 0. a check, without writing, of the hashes it read in slots it does not write (a goal whose session is
///    changed), since those cannot be checked atomically with the commit;
/// 1. the part in the slot of the hashes it read and writes (read-set check and those writes); its marker
///    keeps the commands of the rest, so a redelivery after a crash finishes the very same commit instead
///    of running the receivers again against state it already changed;
/// 2. the parts of other slots (plain writes, which cannot conflict);
/// 3. the part in its stream's slot: the acknowledgement, the emissions and the trace entry.
enum CommitPlan {
    /// All in one part: on one server, or when every key lies in the slot of the message's stream.
    case whole(CommitPart)
    /// A cluster commit spread over slots: `checks` of read-only slots, `first` (when the message read a
    /// hash outside its stream's slot; its marker holds the commands of `middle` and `finish`), the parts of
    /// other slots, then `finish`, which acknowledges the message.
    case split(checks: [RedisCommand], first: CommitPart?, middle: [CommitPart], finish: CommitPart)

    /// Plans the commit of what `context`'s receivers asked for.
    /// - Parameters:
    ///   - deliveries: how many times the entry was delivered, for its dead letter should a write be refused.
    ///   - trace: the chain's trace hash, the field and the entry to record, when the delivery is traced.
    ///   - traceIndexKey: the sorted set to index a chain's root in, or `nil`.
    ///   - traced: whether the emissions carry `traced`.
    ///   - clearError: the recorded error to clear (a redelivery).
    ///   - cluster: whether keys must be grouped by hash slot.
    /// - Throws: ``RedisError`` with code ``RedisError/Code/crossSlot`` when, in a cluster, the receivers read
    ///   and write hashes of several slots: no one script could check and change them together.
    static func make(
        _ context: ReceiverContext, deliveries: Int, trace: (key: String, field: String, entry: [UInt8])?, traceIndexKey: String?,
        traced: Bool, clearError: (key: String, field: String)?, configuration: BusConfiguration, cluster: Bool
    ) throws(RedisError) -> CommitPlan {
        let message = context.message
        let reads = context.readSet
        let writes = context.committedWrites
        let emissions = context.emissions.map { (emission: $0.emission, id: $0.id) }
        let acknowledging = CommitPart.Guard.acknowledges(
            dead: DeadLetters.key(for: message.streamKey, cluster: cluster), deliveries: deliveries
        )
        guard cluster else {
            return .whole(CommitPart(
                message: message, guarding: acknowledging, clearError: clearError, reads: reads, writes: writes,
                emissions: emissions, trace: trace, traceIndexKey: traceIndexKey, traced: traced
            ))
        }

        let home = HashSlot(key: message.streamKey)
        let writtenSlots = Set(writes.map { HashSlot(key: $0.key) })
        var readSlots: [HashSlot] = []
        for read in reads where !readSlots.contains(HashSlot(key: read.key)) { readSlots.append(HashSlot(key: read.key)) }
        let changed = readSlots.filter(writtenSlots.contains)
        guard changed.count <= 1 else {
            throw RedisError(
                code: .crossSlot,
                message: "group \(context.group) read and wrote hashes of several cluster slots (\(reads.map(\.key).joined(separator: ", "))); a message may change what it read in one slot only"
            )
        }
        // The slot whose reads are checked atomically with the commit: the one it changes, else the first read.
        let primary = changed.first ?? readSlots.first
        let checks = readSlots.filter { $0 != primary }.map { slot in
            CommitScript.checkCommand(reads.filter { HashSlot(key: $0.key) == slot })
        }
        // Slots in the order first touched, the message's own stream slot last.
        var order: [HashSlot] = []
        func touch(_ slot: HashSlot) { if slot != home && !order.contains(slot) { order.append(slot) } }
        primary.map(touch)
        writes.forEach { touch(HashSlot(key: $0.key)) }
        emissions.forEach { touch(HashSlot(key: $0.emission.topic.key(partition: message.partition))) }
        traceIndexKey.map { touch(HashSlot(key: $0)) }

        /// The part of `slot`: with `state`, the writes there (and the reads, in the primary slot); when
        /// finishing (`guarding` acknowledges), the emissions and the trace entry.
        func part(_ slot: HashSlot, guarding: CommitPart.Guard, state: Bool) -> CommitPart {
            let finishing = if case .acknowledges = guarding { true } else { false }
            return CommitPart(
                message: message, guarding: guarding, clearError: finishing ? clearError : nil,
                reads: state && slot == primary ? reads.filter { HashSlot(key: $0.key) == slot } : [],
                writes: state ? writes.filter { HashSlot(key: $0.key) == slot } : [],
                emissions: finishing || slot != home
                    ? emissions.filter { HashSlot(key: $0.emission.topic.key(partition: message.partition)) == slot } : [],
                trace: finishing ? trace : nil,
                traceIndexKey: state ? traceIndexKey.flatMap { HashSlot(key: $0) == slot ? $0 : nil } : nil,
                traced: traced
            )
        }
        guard !order.isEmpty || !checks.isEmpty else { return .whole(part(home, guarding: acknowledging, state: true)) }

        /// The marker of a part outside the finishing one, with its slot's tag.
        func marker(_ slot: HashSlot, record: [UInt8]) -> CommitPart.Guard {
            .marker(key: CommitScript.markerKey(group: context.group, id: message.id, tag: slot.tag), record: record)
        }
        // The primary slot's part goes first, checked atomically with its writes, even when it is the stream's
        // own slot: no other slot is written before the check has passed.
        let middle = order.filter { $0 != primary }.map { part($0, guarding: marker($0, record: Array("1".utf8)), state: true) }
        let finish = part(home, guarding: acknowledging, state: primary != home)
        let first = primary.map { slot in
            let rest = (middle + [finish]).map { CommitScript.command([$0], group: context.group, configuration: configuration) }
            return part(slot, guarding: marker(slot, record: RedisCommand.encode(rest)), state: true)
        }
        return .split(checks: checks, first: first, middle: middle, finish: finish)
    }
}
