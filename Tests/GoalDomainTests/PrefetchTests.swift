import GoalDomain
import SignalBus
import Testing

@Suite("What the groups load ahead for a batch")
struct PrefetchTests {
    private func message(_ topic: Topic, goal: String) -> Message {
        Message(topic: topic, entryID: "1-0", id: "m1", atMs: 1_000, cause: "", trace: "m1", payload: ["goal_id": goal])
    }

    @Test("sessions loads the goal of a goal.ended, then the session that goal names, in a second round trip")
    func sessionNamedByTheGoal() {
        let group = SessionReceivers.group()
        let ended = message(Topics.goalEnded, goal: "g1")
        #expect(group.prefetch(ended) == ["goal:{g1}"])
        let named = group.prefetchNamed(ended) { key in key == "goal:{g1}" ? ["session_id": "s1", "active": "0"] : nil }
        #expect(named == ["session:{s1}"])
    }

    @Test("no session is loaded for a goal without one, for a goal not loaded, or for another signal")
    func noSession() {
        let group = SessionReceivers.group()
        let ended = message(Topics.goalEnded, goal: "g1")
        #expect(group.prefetchNamed(ended) { _ in ["active": "0"] } == [])
        #expect(group.prefetchNamed(ended) { _ in ["session_id": ""] } == [])
        #expect(group.prefetchNamed(ended) { _ in nil } == [])
        let progressed = message(Topics.goalProgressed, goal: "g1")
        #expect(group.prefetchNamed(progressed) { _ in ["session_id": "s1"] } == [])
    }
}
