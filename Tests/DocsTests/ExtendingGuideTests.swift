import Foundation
import Testing

/// Keeps `Docs/extending.md` in step with its worked example: every region of the example's files marked
/// `// guide:<name>` … `// guide:end` is quoted in the guide verbatim, so the code a reader copies is the
/// code that builds and whose tests pass.
@Suite("Docs/extending.md quotes the tested example")
struct ExtendingGuideTests {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent() // DocsTests
        .deletingLastPathComponent() // Tests
        .deletingLastPathComponent()

    static let exampleFiles = ["Tests/GoalDomainTests/EndedShortReceiver.swift", "Tests/GoalDomainTests/EndedShortReceiverTests.swift"]

    /// The marked regions of `text`, by name.
    static func regions(in text: String) -> [String: String] {
        var regions: [String: String] = [:]
        var current: (name: String, lines: [Substring])?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("// guide:") {
                let name = String(line.dropFirst("// guide:".count))
                if name == "end", let open = current {
                    regions[open.name] = open.lines.joined(separator: "\n")
                    current = nil
                } else {
                    current = (name, [])
                }
            } else if current != nil {
                current!.lines.append(line)
            }
        }
        return regions
    }

    @Test("the receiver, its group and its tests are quoted in the guide as they are in the tests")
    func quotesMatch() throws {
        let guide = try String(contentsOf: Self.root.appending(path: "Docs/extending.md"), encoding: .utf8)
        var quoted: [String] = []
        for file in Self.exampleFiles {
            let text = try String(contentsOf: Self.root.appending(path: file), encoding: .utf8)
            for (name, code) in Self.regions(in: text) {
                #expect(guide.contains("```swift\n\(code)\n```"), "Docs/extending.md quotes the region \(name) of \(file) as it is")
                quoted.append(name)
            }
        }
        #expect(quoted.sorted() == ["group", "receiver", "test"])
    }
}
