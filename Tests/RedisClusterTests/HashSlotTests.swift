import Redis
import RedisTestSupport
import Testing

@Suite("Hash slots")
struct HashSlotTests {
    @Test("CRC16 and hash tags match the documented vectors and what a node answers")
    func vectors() async throws {
        #expect(HashSlot(key: "123456789").number == 0x31C3)
        #expect(HashSlot(key: "123456789").number == 12739)
        #expect(HashSlot(key: "{user1000}.following") == HashSlot(key: "{user1000}.followers"))
        #expect(HashSlot(key: "foo{}{bar}") != HashSlot(key: "bar"))
        #expect(HashSlot(key: "foo{{bar}}zap") == HashSlot(key: "{bar"))
        #expect(HashSlot(key: "foo{bar}{zap}") == HashSlot(key: "bar"))
        try await withRedisCluster { cluster in
            let node = cluster.client(port: cluster.masterPorts[0])
            var keys: [[UInt8]] = [
                "123456789", "{user1000}.following", "{user1000}.followers", "foo{}{bar}", "foo{{bar}}zap",
                "foo{bar}{zap}", "{bar", "bar", "", "{}", "{", "}", "a{b}c{d}e",
            ].map { Array($0.utf8) }
            var generator = SystemRandomNumberGenerator()
            for length in 0..<400 {
                keys.append((0..<(length % 40)).map { _ in [0, 0x7b, 0x7d, 0xff, UInt8.random(in: 0...255, using: &generator)].randomElement()! })
            }
            let replies = try await node.pipeline(keys.map { RedisCommand("CLUSTER", "KEYSLOT", $0) })
            for (key, reply) in zip(keys, replies) {
                #expect(reply.int == HashSlot(key: key).number, "key \(key)")
            }
        }
    }
}
