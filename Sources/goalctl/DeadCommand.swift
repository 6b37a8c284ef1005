import ArgumentParser
import GoalDomain
import Redis
import SignalBus

struct DeadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dead", abstract: "List and replay dead letters.", subcommands: [List.self, Replay.self]
    )

    /// One dead letter, as `goalctl dead list --json` prints it.
    struct Letter: Encodable {
        let deadStream: String
        let entry: String
        let stream: String
        let group: String
        let deliveries: String
        let message: String
        let error: String

        enum CodingKeys: String, CodingKey {
            case deadStream = "dead_stream", entry, stream, group, deliveries, message, error
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List dead letters of every stream (or one).")

        @Argument(help: "Stream key, e.g. signal:goal.ended or outbox:pusher (default: all).") var stream: String?
        @Flag(help: "Print a JSON array: one object per dead letter.") var json = false

        func run() async throws {
            let environment = try await Environment.load()
            let streams = try stream.map { [try DeadCommand.validated($0, environment)] } ?? DeadCommand.streams(environment)
            var letters: [Letter] = []
            for stream in streams {
                let dead = DeadLetters.key(for: stream, cluster: environment.endpoint.isCluster)
                let entries = try await environment.redis.execute("XRANGE", dead, "-", "+").array ?? []
                for entry in entries {
                    guard let parts = entry.array, parts.count == 2, let id = parts[0].string else { continue }
                    let fields = parts[1].fieldMap
                    letters.append(Letter(
                        deadStream: dead, entry: id, stream: stream, group: fields["dead.group"] ?? "?", deliveries: fields["dead.deliveries"] ?? "?",
                        message: fields["id"] ?? "?", error: fields["dead.error"] ?? "?"
                    ))
                }
            }
            if json { return try JSONOutput.print(letters) }
            for letter in letters {
                print("\(letter.deadStream) \(letter.entry) group=\(letter.group) deliveries=\(letter.deliveries) message=\(letter.message) error=\(letter.error)")
            }
            print("\(letters.count) dead letter(s)")
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put dead letters back on their stream, for the group that dead-lettered each; other groups skip them.",
            discussion: "Replays one entry at a time, showing progress on a terminal."
        )

        @Argument(help: "Stream key, e.g. signal:goal.ended or outbox:pusher.") var stream: String
        @Option(help: "One dead-letter entry id (default: all of the stream).") var id: String?
        @Flag(help: "Print a JSON object: stream, replayed.") var json = false

        /// What `goalctl dead replay --json` prints.
        struct Outcome: Encodable {
            let stream: String
            let replayed: Int
        }

        func run() async throws {
            let environment = try await Environment.load()
            let stream = try DeadCommand.validated(stream, environment)
            let letters = DeadLetters(redis: environment.redis)
            var replayed = 0
            if let id {
                replayed = try await letters.replay(stream: stream, entryID: id)
            } else {
                let dead = DeadLetters.key(for: stream, cluster: environment.endpoint.isCluster)
                let ids = try await Self.entryIDs(of: dead, redis: environment.redis)
                let progress = ProgressLine("replayed")
                for (index, entry) in ids.enumerated() {
                    replayed += try await letters.replay(stream: stream, entryID: entry)
                    progress.update(index + 1, of: ids.count)
                }
                progress.finish()
            }
            if json { return try JSONOutput.print(Outcome(stream: stream, replayed: replayed)) }
            print("replayed \(replayed) message(s) onto \(stream)")
        }

        /// The ids of every entry of the dead-letter stream `dead`, oldest first, read a thousand at a time.
        static func entryIDs(of dead: String, redis: any RedisCommandRunner) async throws -> [String] {
            var ids: [String] = []
            var start = "-"
            while true {
                let page = try await redis.execute("XRANGE", dead, start, "+", "COUNT", 1000).array ?? []
                ids += page.compactMap { $0.array?.first?.string }
                guard page.count == 1000, let last = ids.last else { return ids }
                start = "(" + last
            }
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
