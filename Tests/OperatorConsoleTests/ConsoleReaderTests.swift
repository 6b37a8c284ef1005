import Redis
import RedisTestSupport
import Testing

@testable import OperatorConsole

@Suite("goalctl top's reader against a real Redis")
struct ConsoleReaderTests {
    @Test("one refresh reads each stream's groups as XINFO GROUPS does, dead letters, live heartbeats and memory as INFO does")
    func readsWhatRedisSays() async throws {
        try await withRedisServer { server in
            let client = server.client()
            for index in 0..<5 { try await client.execute("XADD", "signal:goal.progressed", "*", "n", index) }
            try await client.execute("XGROUP", "CREATE", "signal:goal.progressed", "tracking", "0")
            try await client.execute("XGROUP", "CREATE", "signal:goal.progressed", "sessions", "$")
            _ = try await client.execute("XREADGROUP", "GROUP", "tracking", "t-alive", "COUNT", 2, "STREAMS", "signal:goal.progressed", ">")
            _ = try await client.execute("XREADGROUP", "GROUP", "tracking", "t-gone", "COUNT", 1, "STREAMS", "signal:goal.progressed", ">")
            try await client.execute("SET", "heartbeat:tracking:t-alive", "1", "PX", 60_000)
            try await client.execute("XADD", "dead:signal:goal.progressed", "*", "id", "m1")

            var reader = ConsoleReader(
                redis: client, streams: ["signal:goal.progressed", "signal:missing"], endedStreams: ["signal:goal.ended"], servers: [client]
            )
            let snapshot = try await reader.read()
            #expect(snapshot.streams.map(\.key) == ["signal:goal.progressed"], "a stream that does not exist is left out")
            let stream = try #require(snapshot.streams.first)
            #expect(stream.length == 5)
            #expect(stream.entriesAdded == 5)
            #expect(stream.deadLetters == 1)
            let groups = try await client.execute("XINFO", "GROUPS", "signal:goal.progressed").array ?? []
            for info in groups {
                let fields = info.pairs
                let reading = try #require(stream.groups.first { $0.name == fields["name"]?.string })
                #expect(reading.lag == fields["lag"]?.int)
                #expect(reading.pending == fields["pending"]?.int)
            }
            let tracking = try #require(stream.groups.first { $0.name == "tracking" })
            #expect(tracking.backlog == 5)
            #expect(Set(tracking.consumers) == ["t-alive", "t-gone"])
            let firstID = try #require(try await client.execute("XRANGE", "signal:goal.progressed", "-", "+", "COUNT", 1).array?.first?.array?.first?.string)
            #expect(tracking.oldestPendingMs == Int64(firstID.prefix { $0 != "-" }))
            #expect(snapshot.aliveConsumers == ["tracking": ["t-alive"]])
            let used = ConsoleReader.infoFields(try await client.execute("INFO", "memory").string ?? "")["used_memory"].flatMap(Int.init) ?? 0
            #expect(abs((snapshot.usedMemory.first ?? 0) - used) < used / 10)
            // TIME, 2 per stream, 1 goal.ended stream, 2 consumers' heartbeats, 1 INFO.
            #expect(snapshot.commands == 1 + 4 + 1 + 2 + 1)
        }
    }

    @Test("goal.ended entries are read once each: the next refresh reads only those added since")
    func endedIncrementally() async throws {
        try await withRedisServer { server in
            let client = server.client()
            try await client.execute("XADD", "signal:goal.ended", "1000-0", "at_ms", 900)
            try await client.execute("XADD", "signal:goal.ended", "2000-0", "at_ms", 1500)
            var reader = ConsoleReader(redis: client, streams: ["signal:goal.ended"], endedStreams: ["signal:goal.ended"], servers: [client])
            let first = try await reader.read()
            #expect(Set(first.endedChains.map(\.latencyMs)) == [100, 500])
            #expect(try await reader.read().endedChains.isEmpty)
            try await client.execute("XADD", "signal:goal.ended", "3000-0", "at_ms", 2990)
            #expect(try await reader.read().endedChains == [EndedChain(endedMs: 3000, eventMs: 2990)])
        }
    }
}
