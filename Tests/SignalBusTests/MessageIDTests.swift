import SignalBus
import Testing

@Suite("Message ids")
struct MessageIDTests {
    // Expected values computed independently: `hashlib.sha256(text.encode()).hexdigest()[:20]` in Python.
    @Test("a digest is the first 80 bits of SHA-256, in lowercase hex", arguments: [
        ("abc", "ba7816bf8f01cfea4141"),
        ("é|ü", "b0fbfcbc58b4b074959d"),
    ])
    func digest(text: String, expected: String) {
        #expect(MessageID.digest(text) == expected)
    }

    @Test("a derived id depends on the cause, the group, the receiver, the topic and the position")
    func derived() {
        let id = MessageID.derived(cause: "evt-vacated", group: "karaoke", receiver: "karaoke_control", topic: .task("increment_goal_progress"), index: 0)
        #expect(id == "42d4e63338cc26bdaf7e")
        let next = MessageID.derived(cause: "evt-vacated", group: "karaoke", receiver: "karaoke_control", topic: .task("increment_goal_progress"), index: 1)
        #expect(next != id)
    }
}
