import ArgumentParser
import Foundation
import GoalDomain
import Redis
import SignalBus

struct GoalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "goal", abstract: "Create, show and end goals.",
        subcommands: [Create.self, Show.self, End.self, Trace.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a goal with its session pair and escrow hold.")

        @Argument(help: "Goal id ([A-Za-z0-9_-]{1,64}).") var id: String
        @Option(name: .customLong("target"), help: "Level target in seconds; repeat for more levels.") var targets: [Int64] = [360]
        @Option(help: "_cls of the goal.") var cls: String = GoalClass.exclusive
        @Option(help: "Session id.") var session: String?
        @Option(help: "Viewer the goal is exclusive to.") var viewer: String?
        @Option(help: "Escrow amount held.") var amount: Int64?
        @Option(help: "Escrow payer (default: the viewer).") var payer: String?
        @Option(help: "Escrow payee.") var payee: String?
        @Option(help: "Expiry, Unix seconds.") var exp: Int64?
        @Option(help: "breakdown_id.") var breakdown: String = ""
        @Option(help: "conditions JSON.") var conditions: String = "{}"
        @Option(help: "metadata JSON.") var metadata: String = "{}"
        @Flag(help: "Trace every chain of this goal, whatever trace.sample.") var trace = false
        @Option(help: "Create this many goals, <id>-1 … <id>-N (sessions <session>-1 …), showing progress on a terminal.") var count: Int?
        @Flag(help: "Print a JSON object: goals (the ids created), class, targets.") var json = false

        /// What `goalctl goal create --json` prints.
        struct Created: Encodable {
            let goals: [String]
            let `class`: String
            let targets: [Int64]
        }

        func validate() throws {
            if let count, count < 1 { throw ValidationError("--count must be at least 1") }
        }

        func run() async throws {
            let environment = try await Environment.load()
            let store = GoalStore(redis: environment.redis)
            let numbers: [Int?] = count.map { Array(1...$0) } ?? [nil]
            let progress = ProgressLine("created")
            var created: [String] = []
            for (index, number) in numbers.enumerated() {
                let goalID = number.map { "\(id)-\($0)" } ?? id
                do {
                    try await store.create(spec(goalID, session: session.map { base in number.map { "\(base)-\($0)" } ?? base }))
                } catch let error as GoalStore.InvalidSpec {
                    throw ValidationError(error.description)
                }
                created.append(goalID)
                if count != nil { progress.update(index + 1, of: numbers.count) }
            }
            progress.finish()
            if json { return try JSONOutput.print(Created(goals: created, class: cls, targets: targets)) }
            let what = created.count == 1 ? "goal \(id)" : "\(created.count) goals \(created[0]) … \(created[created.count - 1])"
            print("created \(what) (\(cls), target \(targets.map(String.init).joined(separator: ",")) s)")
        }

        private func spec(_ goalID: String, session: String?) -> GoalSpec {
            var spec = GoalSpec(id: goalID)
            spec.goalClass = cls
            spec.targets = targets
            spec.sessionID = session
            spec.viewer = viewer
            spec.amount = amount
            spec.payer = payer
            spec.payee = payee
            spec.exp = exp
            spec.breakdownID = breakdown
            spec.conditions = conditions
            spec.metadata = metadata
            spec.traced = trace
            return spec
        }
    }

    struct Trace: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Trace every chain of a goal from now on (on), or leave it to trace.sample again (off)."
        )

        enum Switch: String, ExpressibleByArgument, CaseIterable {
            case on, off
        }

        @Argument(help: "Goal id.") var id: String
        @Argument(help: "on or off.") var state: Switch
        @Flag(help: "Print a JSON object: goal_id, traced.") var json = false

        /// What `goalctl goal trace --json` prints.
        struct Outcome: Encodable {
            let goalID: String
            let traced: Bool

            enum CodingKeys: String, CodingKey {
                case goalID = "goal_id", traced
            }
        }

        func run() async throws {
            let environment = try await Environment.load()
            guard try await GoalStore(redis: environment.redis).setTraced(id, state == .on) else {
                throw ValidationError("no goal \(id) (key \(Keys.goal(id)) is empty)")
            }
            if json { return try JSONOutput.print(Outcome(goalID: id, traced: state == .on)) }
            print(state == .on
                ? "every chain of goal \(id) is traced from now on; `goalctl trace \(id)` draws them"
                : "chains of goal \(id) are traced by the sample again (trace.sample)")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a goal, its session and its escrow.")

        @Argument(help: "Goal id.") var id: String
        @Flag(help: "Print a JSON object: goal, session, escrow (each the hash's fields, empty when absent).") var json = false

        func run() async throws {
            let environment = try await Environment.load()
            let store = GoalStore(redis: environment.redis)
            let goal = try await store.fields(of: Keys.goal(id))
            guard !goal.isEmpty else { throw ValidationError("no goal \(id) (key \(Keys.goal(id)) is empty)") }
            var session: [String: String] = [:]
            if let sessionID = goal["session_id"] { session = try await store.fields(of: Keys.session(sessionID)) }
            let escrow = try await store.fields(of: Keys.escrow(id))
            if json { return try JSONOutput.print(["goal": goal, "session": session, "escrow": escrow]) }
            Table.print(title: Keys.goal(id), goal)
            if let sessionID = goal["session_id"] { Table.print(title: Keys.session(sessionID), session) }
            Table.print(title: Keys.escrow(id), escrow)
        }
    }

    struct End: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "End a goal now (task deactivate_goal, triggerer operator).")

        @Argument(help: "Goal id.") var id: String
        @Flag(help: "Print a JSON object: goal_id, message_id, stream.") var json = false

        /// What `goalctl goal end --json` prints.
        struct Outcome: Encodable {
            let goalID: String
            let messageID: String
            let stream: String

            enum CodingKeys: String, CodingKey {
                case goalID = "goal_id", messageID = "message_id", stream
            }
        }

        func run() async throws {
            let environment = try await Environment.load()
            let nowMs = Int64(Clock.unixMilliseconds())
            let messageID = MessageID.digest("operator|\(id)|\(nowMs)")
            _ = try await Publisher(redis: environment.redis, configuration: environment.bus).publish([
                OutgoingMessage(topic: Topics.deactivateGoal, id: messageID, atMs: nowMs, payload: [("goal_id", id), ("triggerer", "operator")], routingKey: id,
                    traceFlagKey: Keys.goal(id)),
            ])
            if json {
                let stream = Topics.deactivateGoal.key(partition: environment.bus.partition(of: id))
                return try JSONOutput.print(Outcome(goalID: id, messageID: messageID, stream: stream))
            }
            print("enqueued deactivate_goal for \(id) (message \(messageID)); `goalctl trace \(id)` shows the chain")
        }
    }
}

/// Two-column tables for the terminal.
enum Table {
    static func print(title: String, _ fields: [String: String]) {
        Swift.print(title)
        guard !fields.isEmpty else {
            Swift.print("  (none)")
            return
        }
        let width = fields.keys.map(\.count).max() ?? 0
        for (field, value) in fields.sorted(by: { $0.key < $1.key }) {
            Swift.print("  " + field.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + value)
        }
    }
}
