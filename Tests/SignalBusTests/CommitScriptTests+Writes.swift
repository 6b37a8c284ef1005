import Foundation
import Redis
import RedisTestSupport
@testable import SignalBus
import Testing

/// How the commit script receives a message's writes and emissions: the end result of a hash the message
/// read, deletes together, the envelope once per message.
extension CommitScriptTests {
    /// A context whose hash `h` loads as `fields`, with `writes` asked by receiver `r`.
    func context(_ message: Message, loading fields: [String: String], _ writes: [Write]) throws -> ReceiverContext {
        let context = ReceiverContext(message: message, group: "g") { key in key == "h" ? fields.map { ($0.key, $0.value) } : [] }
        context.receiver = "r"
        _ = try context.hash("h")
        for write in writes { context.write(write) }
        return context
    }

    @Test("a hash the message read gets its end result: one HSET, one HDEL, increments and extremes worked out")
    func endResult() async throws {
        try await withRedisServer { server in
            let client = server.client()
            try await client.execute("HSET", "h", "a", "5", "b", "x", "c", "1", "m", "20")
            let message = try await pendingMessage(client, id: "m1")
            let prepared = try context(message, loading: try await hashFields(client, "h"), [
                .hashIncrement(key: "h", field: "a", amount: 2), .hashSet(key: "h", field: "b", value: "y"),
                .hashMax(key: "h", field: "m", value: 10), .hashMin(key: "h", field: "a", value: 3),
                .hashSet(key: "h", field: "b", value: "z"), .hashDelete(key: "h", field: "c"),
                .hashMax(key: "h", field: "new", value: 4),
            ])
            #expect(prepared.committedWrites == [
                .hashSet(key: "h", fields: [("a", "3"), ("b", "z"), ("new", "4")]), .hashDelete(key: "h", fields: ["c"]),
            ])
            try await client.execute("CONFIG", "RESETSTAT")
            #expect(try await commit(client, [prepared]) == [.committed])
            #expect(try await hashFields(client, "h") == ["a": "3", "b": "z", "m": "20", "new": "4"])
            #expect(try await commandCalls(client, "hset") == 1)
            #expect(try await commandCalls(client, "hdel") == 1)
            #expect(try await commandCalls(client, "hincrby") == 0)
            #expect(try await commandCalls(client, "hget") == 0)
        }
    }

    @Test("a value worked out from what was read is not written when that changed meanwhile: a conflict")
    func endResultGuarded() async throws {
        try await withRedisServer { server in
            let client = server.client()
            try await client.execute("HSET", "h", "a", "5")
            let message = try await pendingMessage(client, id: "m1")
            let prepared = try context(message, loading: try await hashFields(client, "h"), [.hashIncrement(key: "h", field: "a", amount: 2)])
            try await client.execute("HINCRBY", "h", "a", "1")
            #expect(try await commit(client, [prepared]) == [.conflict(key: "h", field: "a")])
            #expect(try await hashFields(client, "h") == ["a": "6"])
        }
    }

    @Test("a delete then new fields: DEL, then the fields set after it")
    func deleteThenSet() async throws {
        try await withRedisServer { server in
            let client = server.client()
            try await client.execute("HSET", "h", "a", "5", "b", "x")
            let message = try await pendingMessage(client, id: "m1")
            let prepared = try context(message, loading: try await hashFields(client, "h"), [
                .hashSet(key: "h", field: "a", value: "0"), .delete(key: "h"), .hashSet(key: "h", field: "c", value: "1"),
            ])
            #expect(prepared.committedWrites == [.asked(.delete(key: "h")), .hashSet(key: "h", fields: [("c", "1")])])
            #expect(try await commit(client, [prepared]) == [.committed])
            #expect(try await hashFields(client, "h") == ["c": "1"])
        }
    }

    @Test("an increment of a field that is not an integer goes as asked, and Redis refuses it")
    func nonIntegerIncrement() async throws {
        try await withRedisServer { server in
            let client = server.client()
            try await client.execute("HSET", "h", "a", "many")
            let message = try await pendingMessage(client, id: "m1")
            let prepared = try context(message, loading: try await hashFields(client, "h"), [.hashIncrement(key: "h", field: "a", amount: 1)])
            #expect(prepared.committedWrites == [.asked(.hashIncrement(key: "h", field: "a", amount: 1))])
            let results = try await commit(client, [prepared])
            guard case .failed(let reason) = results.first else {
                Issue.record("expected a refused write, got \(results)")
                return
            }
            #expect(reason.contains("not an integer"))
            #expect(try await hashFields(client, "h") == ["a": "many"])
        }
    }

    @Test("writes to keys the message did not read go as asked, and deletes in a row go in one DEL")
    func askedWrites() async throws {
        try await withRedisServer { server in
            let client = server.client()
            try await client.execute("SET", "k1", "1")
            try await client.execute("SET", "k2", "2")
            try await client.execute("HSET", "counter", "n", "7")
            let message = try await pendingMessage(client, id: "m1")
            let prepared = try context(message, loading: [:], [
                .delete(key: "k1"), .delete(key: "k2"), .hashIncrement(key: "counter", field: "n", amount: 1), .delete(key: "k3"),
            ])
            try await client.execute("CONFIG", "RESETSTAT")
            #expect(try await commit(client, [prepared]) == [.committed])
            #expect(try await commandCalls(client, "del") == 2)
            #expect(try await client.execute("EXISTS", "k1", "k2").int == 0)
            #expect(try await hashFields(client, "counter") == ["n": "8"])
        }
    }

    @Test("emissions: the envelope in order on the stream, and the same message as JSON on the channel")
    func emissionEnvelope() async throws {
        try await withRedisServer { server in
            let client = server.client()
            let output = scratchFile("commit-emission")
            defer { try? FileManager.default.removeItem(atPath: output) }
            let subscriber = try ChildProcess(
                executable: try redisCLI(), arguments: ["-p", String(server.port), "SUBSCRIBE", self.output.key], logPath: output
            )
            defer { subscriber.killNow() }
            try await eventually("redis-cli to subscribe") {
                try await client.execute("PUBSUB", "NUMSUB", self.output.key).array?.last?.int == 1
            }
            let message = try await pendingMessage(client, id: "m\"1")
            let prepared = try context(message, loading: [:], [])
            let first = prepared.emit(self.output, [("goal_id", "g1"), ("note", "a \"quoted\"\nline")])
            let second = prepared.emit(self.output, [])
            let plan = try CommitPlan.make(
                prepared, deliveries: 1, trace: nil, traceIndexKey: nil, traced: true, clearError: nil,
                configuration: BusConfiguration(), cluster: false
            )
            guard case .whole(let part) = plan else { throw TestServerError(message: "a split plan on one server") }
            let reply = try await client.execute(CommitScript.command([part], group: "g", configuration: BusConfiguration()))
            #expect(try CommitScript.results(reply, count: 1) == [.committed])

            let envelope = ["signal", "commit.out", "at_ms", "5000", "cause", "m\"1", "trace", "m\"1", "traced", "1"]
            #expect(try await streamEntries(client, self.output.key).map(\.fields) == [
                ["id", first] + envelope + ["goal_id", "g1", "note", "a \"quoted\"\nline"],
                ["id", second] + envelope,
            ])
            let shared = #""signal":"commit.out","at_ms":"5000","cause":"m\"1","trace":"m\"1","traced":"1""#
            try await eventually("two pub/sub messages") {
                (try String(contentsOfFile: output, encoding: .utf8)).components(separatedBy: "message\n").count >= 3
            }
            let published = try String(contentsOfFile: output, encoding: .utf8)
            #expect(published.contains(#"{"id":"\#(first)",\#(shared),"goal_id":"g1","note":"a \"quoted\"\nline"}"#))
            #expect(published.contains(#"{"id":"\#(second)",\#(shared)}"#))
        }
    }
}
