import Foundation
import GoalDomain
import SignalBus
import Testing

/// Keeps `Docs/signals.md` in step with the receiver declarations: every receiver of every group appears in
/// the section of each stream it listens to, with its group, in the seed's order, and every reason the page
/// quotes is a guard string of the code.
@Suite("Docs/signals.md matches the receiver declarations")
struct SignalCatalogueTests {
    /// One receiver row of a stream's table.
    struct Row: Equatable, CustomStringConvertible {
        var receiver: String
        var group: String
        var returnsWhen: String

        var description: String { "\(receiver) [\(group)]" }
    }

    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent() // DocsTests
        .deletingLastPathComponent() // Tests
        .deletingLastPathComponent()

    /// The receiver rows of each `## <stream key>` section, in document order.
    static func sections() throws -> [String: [Row]] {
        let text = try String(contentsOf: root.appending(path: "Docs/signals.md"), encoding: .utf8)
        var sections: [String: [Row]] = [:]
        var current: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("## ") {
                let heading = unquoted(String(line.dropFirst(3)))
                current = Topic(key: heading) != nil ? heading : nil
                if let current, sections[current] == nil { sections[current] = [] }
                continue
            }
            guard let current, line.hasPrefix("|") else { continue }
            let cells = cellsOf(String(line))
            guard cells.count >= 3, cells[0].hasPrefix("`") else { continue }
            sections[current, default: []].append(Row(receiver: unquoted(cells[0]), group: unquoted(cells[1]), returnsWhen: cells[2]))
        }
        return sections
    }

    /// The cells of a table row, trimmed; `\|` does not split.
    static func cellsOf(_ line: String) -> [String] {
        var cells: [String] = []
        var cell = ""
        var escaped = false
        for character in line {
            if escaped {
                cell.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "|" {
                cells.append(cell.trimmingCharacters(in: .whitespaces))
                cell = ""
            } else {
                cell.append(character)
            }
        }
        // The text before the first `|` and after the last one are not cells.
        return Array(cells.dropFirst())
    }

    static func unquoted(_ text: String) -> String {
        text.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "`")).trimmingCharacters(in: .whitespaces)
    }

    /// The reasons a "returns when" cell quotes: its code spans outside parentheses, so
    /// `` `goal missing`; `timer not running` (still writes `context.paused`) `` gives the two reasons only.
    static func reasons(in cell: String) -> [String] {
        var reasons: [String] = []
        var span: String?
        var depth = 0
        for character in cell {
            if var text = span {
                if character == "`" {
                    if depth == 0 { reasons.append(text) }
                    span = nil
                } else {
                    text.append(character)
                    span = text
                }
            } else if character == "`" {
                span = ""
            } else if character == "(" {
                depth += 1
            } else if character == ")" {
                depth = max(0, depth - 1)
            }
        }
        return reasons
    }

    /// Every (group, topic, receiver) the code declares.
    static var declared: [(group: String, topic: Topic, receiver: String)] {
        Catalogue.groups().flatMap { group in
            group.topics.flatMap { topic in
                group.receivers(of: topic).map { (group.name, topic, $0.name) }
            }
        }
    }

    @Test("every declared receiver has a row with its group in its stream's section")
    func everyReceiverIsDocumented() throws {
        let sections = try Self.sections()
        for (group, topic, receiver) in Self.declared {
            let rows = try #require(sections[topic.key], "Docs/signals.md has no section `## \(topic.key)`")
            #expect(
                rows.contains { $0.receiver == receiver && $0.group == group },
                "`## \(topic.key)` lacks a row for `\(receiver)` in group \(group); rows: \(rows)"
            )
        }
    }

    @Test("every row names a receiver that the code declares for that stream and group")
    func noRowIsStale() throws {
        let declared = Set(Self.declared.map { "\($0.topic.key) \($0.group) \($0.receiver)" })
        for (key, rows) in try Self.sections() {
            for row in rows {
                let isDeclared = declared.contains("\(key) \(row.group) \(row.receiver)")
                #expect(isDeclared, "`## \(key)` documents \(row), which the code does not declare")
            }
        }
    }

    @Test("each stream's rows follow the seed's order of Catalogue.receivers(of:)")
    func rowsFollowTheSeedOrder() throws {
        let sections = try Self.sections()
        for topic in Catalogue.topics {
            let documented = (sections[topic.key] ?? []).map(\.receiver)
            let seed = Catalogue.receivers(of: topic.name)
            let expected = seed.filter(documented.contains)
            var actual: [String] = []
            for name in documented where seed.contains(name) && !actual.contains(name) { actual.append(name) }
            #expect(actual == expected, "`## \(topic.key)`: rows in order \(actual), seed order \(expected)")
        }
    }

    @Test("every declared receiver is in the seed order of its stream")
    func catalogueKnowsEveryReceiver() {
        for (group, topic, receiver) in Self.declared {
            #expect(Catalogue.receivers(of: topic.name).contains(receiver), "Catalogue.receivers(of: \"\(topic.name)\") lacks \(receiver) of \(group)")
        }
    }

    @Test("every quoted reason is a guard string of the receiver code")
    func reasonsAreTheCodesStrings() throws {
        let folder = Self.root.appending(path: "Sources/GoalDomain")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix("Receivers.swift") }
        #expect(!files.isEmpty)
        let source = try files.map { try String(contentsOf: folder.appending(path: $0), encoding: .utf8) }.joined(separator: "\n")
        for (key, rows) in try Self.sections() {
            for row in rows {
                let reasons = Self.reasons(in: row.returnsWhen)
                if reasons.isEmpty {
                    #expect(["never", "—"].contains(row.returnsWhen), "`## \(key)` \(row): returns when '\(row.returnsWhen)' quotes no reason")
                }
                for reason in reasons {
                    if let placeholder = reason.firstIndex(of: "<") {
                        // An interpolated reason such as `escrow already <state>`.
                        let stem = reason[..<placeholder]
                        let found = source.contains("\"\(stem)\\(")
                        #expect(found, "`## \(key)` \(row): no guard string starts with '\(stem)'")
                    } else {
                        let found = source.contains("\"\(reason)\"")
                        #expect(found, "`## \(key)` \(row): '\(reason)' is not a guard string in Sources/GoalDomain")
                    }
                }
            }
        }
    }
}
