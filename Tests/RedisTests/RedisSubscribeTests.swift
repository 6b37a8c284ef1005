import Redis
import RedisTestSupport
import Testing

@Suite("Pub/sub")
struct RedisSubscribeTests {
    @Test("after SUBSCRIBE, receive returns each message in order, nil when nothing came in time, and the connection stays usable")
    func receivesMessages() async throws {
        try await withRedisServer { server in
            let publisher = server.client(name: "publisher")
            let subscriber = RedisClient(configuration: server.configuration, name: "subscriber")
            let confirmation = try await subscriber.withConnection { connection in
                try connection.send(RedisCommand("SUBSCRIBE", "news"))
            }
            #expect(confirmation == .array([.bulk(Array("subscribe".utf8)), .bulk(Array("news".utf8)), .integer(1)]))

            let idle = try await subscriber.withConnection { connection in
                try connection.receive(timeout: .milliseconds(50))
            }
            #expect(idle == nil)

            #expect(try await publisher.execute("PUBLISH", "news", "first").int == 1)
            #expect(try await publisher.execute("PUBLISH", "news", "second\u{0}binary").int == 1)
            let received = try await subscriber.withConnection { connection in
                [try connection.receive(timeout: .seconds(2)), try connection.receive(timeout: .seconds(2)), try connection.receive(timeout: .milliseconds(50))]
            }
            #expect(received[0] == .array([.bulk(Array("message".utf8)), .bulk(Array("news".utf8)), .bulk(Array("first".utf8))]))
            #expect(received[1] == .array([.bulk(Array("message".utf8)), .bulk(Array("news".utf8)), .bulk(Array("second\u{0}binary".utf8))]))
            #expect(received[2] == nil)
        }
    }

    @Test("receive on a connection that was never opened is a clear error")
    func receiveWithoutConnection() async throws {
        let connection = RedisClient(configuration: RedisConfiguration(host: "127.0.0.1", port: 1), name: "unopened")
        let error = await #expect(throws: RedisError.self) {
            try await connection.withConnection { connection in try connection.receive(timeout: .milliseconds(10)) }
        }
        #expect(error?.code == .closed)
        #expect(error?.message == "no open connection to 127.0.0.1:1 to receive on")
    }
}
