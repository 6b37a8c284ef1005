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

        @Argument(help: "Stream key, e.g. signal:goal.ended or outbox:pusher (default: all).") var stream: String?

        func run() async throws {
            let environment = try await Environment.load()
            let streams = try stream.map { [try DeadCommand.validated($0, environment)] } ?? DeadCommand.streams(environment)
            var total = 0
            for stream in streams {
                let dead = DeadLetters.key(for: stream, cluster: environment.endpoint.isCluster)
                let entries = try await environment.redis.execute("XRANGE", dead, "-", "+").array ?? []
                for entry in entries {
                    guard let parts = entry.array, parts.count == 2, let id = parts[0].string else { continue }
                    let fields = parts[1].fieldMap
                    total += 1
                    print("\(dead) \(id) group=\(fields["dead.group"] ?? "?") deliveries=\(fields["dead.deliveries"] ?? "?") message=\(fields["id"] ?? "?") error=\(fields["dead.error"] ?? "?")")
                }
            }
            print("\(total) dead letter(s)")
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put dead letters back on their stream; groups that handled them already recognise the duplicate."
        )

        @Argument(help: "Stream key, e.g. signal:goal.ended or outbox:pusher.") var stream: String
        @Option(help: "One dead-letter entry id (default: all of the stream).") var id: String?

        func run() async throws {
            let environment = try await Environment.load()
            let stream = try DeadCommand.validated(stream, environment)
            let replayed = try await DeadLetters(redis: environment.redis).replay(stream: stream, entryID: id)
            print("replayed \(replayed) message(s) onto \(stream)")
        }
    }

    /// Every stream whose consumers dead-letter: the flow's signals and tasks (each partition's on a
    /// cluster), and the Pusher outbox.
    static func streams(_ environment: Environment) -> [String] {
        Catalogue.topics.flatMap(environment.bus.streamKeys(of:)) + [Keys.pusherOutbox]
    }

    static func validated(_ key: String, _ environment: Environment) throws -> String {
        let streams = streams(environment)
        guard streams.contains(key) else {
            throw ValidationError("'\(key)' is not a consumed stream; one of: \(streams.joined(separator: ", "))")
        }
        return key
    }
}
