import ArgumentParser
import GoalDomain
import Redis
import SignalBus

struct DeadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dead", abstract: "List and replay dead letters.", subcommands: [List.self, Replay.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List dead letters of every stream (or one).")

        @Argument(help: "Stream key, e.g. signal:goal.ended (default: all).") var stream: String?

        func run() async throws {
            let environment = try await Environment.load()
            let topics = try stream.map { [try DeadCommand.topic($0)] } ?? Catalogue.topics
            var total = 0
            for topic in topics {
                let entries = try await environment.redis.execute("XRANGE", topic.deadLetterKey, "-", "+").array ?? []
                for entry in entries {
                    guard let parts = entry.array, parts.count == 2, let id = parts[0].string else { continue }
                    let fields = parts[1].fieldMap
                    total += 1
                    print("\(topic.deadLetterKey) \(id) group=\(fields["dead.group"] ?? "?") deliveries=\(fields["dead.deliveries"] ?? "?") message=\(fields["id"] ?? "?") error=\(fields["dead.error"] ?? "?")")
                }
            }
            print("\(total) dead letter(s)")
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put dead letters back on their stream; groups that handled them already recognise the duplicate."
        )

        @Argument(help: "Stream key, e.g. signal:goal.ended.") var stream: String
        @Option(help: "One dead-letter entry id (default: all of the stream).") var id: String?

        func run() async throws {
            let environment = try await Environment.load()
            let topic = try DeadCommand.topic(stream)
            let replayed = try await DeadLetters(client: environment.redis).replay(topic: topic, entryID: id)
            print("replayed \(replayed) message(s) onto \(topic.key)")
        }
    }

    static func topic(_ key: String) throws -> Topic {
        guard let topic = Topic(key: key) else { throw ValidationError("'\(key)' is not a stream key (signal:<name> or task:<name>)") }
        return topic
    }
}
