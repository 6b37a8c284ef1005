import Redis
import SignalBus
import Testing

@Suite("Partitions of the streams on a cluster")
struct PartitionTests {
    @Test("partition tags spread evenly over equal slot ranges", arguments: [1, 2, 3, 6, 8, 64])
    func tagsSpread(count: Int) {
        for partition in Partition.all(count) {
            let slot = HashSlot(key: "{\(partition.tag)}").number
            #expect(slot * count / HashSlot.count == partition.index, "\(partition.tag) in slot \(slot)")
            #expect(partition.tag.hasPrefix("p\(partition.index)-"))
        }
        #expect(Set(Partition.all(count).map(\.tag)).count == count)
    }

    @Test("the default three partitions, as the documentation names them")
    func defaultTags() {
        #expect(Partition.all(3).map(\.tag) == ["p0-0", "p1-1", "p2-0"])
    }

    @Test("a partition's keys share its slot; goals map to partitions by their slot")
    func keys() {
        var bus = BusConfiguration()
        bus.partitions = 6
        let partition = Partition(4, of: 6)
        let stream = Topic.signal("goal.ended").key(partition: partition)
        #expect(stream == "signal:goal.ended:{\(partition.tag)}")
        #expect(HashSlot(key: stream) == HashSlot(key: BusConfiguration.errorsKey(group: "goals", partition: partition)))
        #expect(Topic(streamKey: stream) == .signal("goal.ended"))
        #expect(Topic(streamKey: "task:deactivate_goal") == .task("deactivate_goal"))
        #expect(Topic(streamKey: "outbox:pusher") == nil)
        #expect(bus.partition(of: "g1") == Partition(HashSlot(key: "g1").number % 6, of: 6))
        #expect(BusConfiguration().partition(of: "g1") == nil, "one server: no partitions")
    }
}
