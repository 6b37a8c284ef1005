import Foundation
import GoalDomain
import Redis
import RedisTestSupport
import SignalBus
import Testing

@Suite("Presence webhooks: duplicates, order, strangers, members")
struct PresenceTests {
    let channel = "presence-enc-goal@g1"

    @Test("the identical vacate delivered twice adds progress once")
    func duplicatedVacate() async throws {
        try await withRedisServer { server in
            let client = server.client()
            var spec = referenceSpec()
            spec.targets = [1000]
            try await GoalStore(redis: client).create(spec)
            let vacate = webhook(Topics.channelVacated, id: "evt-vacated", at: T + 400, channel: channel)
            try await withFlow(server) {
                let publisher = Publisher(redis: client, configuration: tracedConfiguration)
                _ = try await publisher.publish([webhook(Topics.channelOccupied, id: "evt-occupied", at: T, channel: channel)])
                // No dedup key: three stream entries with the same envelope id, two now, one later. Each is a
                // message of its own; the goal's presence watermark lets only the first add progress.
                let first = try await publisher.publish([vacate, vacate])
                #expect(first == [true, true])
                try await waitSettled(client)
                _ = try await publisher.publish([vacate])
                try await waitSettled(client)
            }
            let goal = try await hashFields(client, "goal:{g1}")
            #expect(goal["progress"] == "400")
            #expect(goal["active"] == "1")
            #expect(goal["context.paused"] == "\(T + 400)")
            let counts = try await lengths(client, ["signal:channel_vacated", "task:increment_goal_progress", "signal:goal.progressed"])
            #expect(counts == ["signal:channel_vacated": 3, "task:increment_goal_progress": 1, "signal:goal.progressed": 1])
            let counters = try await hashFields(client, "tracking:counters")
            #expect(counters == ["channel_occupied": "1", "channel_vacated": "3", "goal.progressed": "1"], "tracking records every entry")
            let records = try await traceRecords(client, "evt-vacated").filter { $0.message == "evt-vacated" }
            #expect(records.count == 4, "3 karaoke receivers and 1 tracking receiver, one entry per group and message id")
        }
    }

    @Test("a vacate delivered before the occupy it follows leaves the timer stopped and adds nothing")
    func vacateBeforeOccupy() async throws {
        try await withRedisServer { server in
            let client = server.client()
            try await GoalStore(redis: client).create(referenceSpec())
            try await withFlow(server) {
                let publisher = Publisher(redis: client, configuration: tracedConfiguration)
                _ = try await publisher.publish([webhook(Topics.channelVacated, id: "evt-vacated", at: T + 400, channel: channel)])
                try await waitSettled(client)
                _ = try await publisher.publish([webhook(Topics.channelOccupied, id: "evt-occupied", at: T, channel: channel)])
                try await waitSettled(client)
            }
            let goal = try await hashFields(client, "goal:{g1}")
            #expect(goal["progress"] == "0")
            #expect(goal["active"] == "1")
            let started = goal["context.started"].flatMap { Int64($0) }
            let paused = goal["context.paused"].flatMap { Int64($0) }
            #expect(started == nil || (paused != nil && started! <= paused!), "timer left running: \(goal)")
            #expect(goal["context.started"] == nil)
            #expect(goal["context.paused"] == "\(T + 400)")
            #expect(goal["context.last_updated"] == "\(T + 400)")
            let increments = try await integer(client, "XLEN", "task:increment_goal_progress")
            #expect(increments == 0)

            let vacated = try await traceRecords(client, "evt-vacated").first { $0.receiver == "karaoke_control" }
            #expect(vacated?.acted == false)
            #expect(vacated?.reason == "timer not running")
            let occupied = try await traceRecords(client, "evt-occupied").first { $0.receiver == "trigger_online" }
            #expect(occupied?.acted == false)
            #expect(occupied?.reason == "stale event (older than context.last_updated)")

            // A later occupy/vacate pair still counts.
            try await withFlow(server) {
                let publisher = Publisher(redis: client, configuration: tracedConfiguration)
                _ = try await publisher.publish([webhook(Topics.channelOccupied, id: "evt-occupied-2", at: T + 500, channel: channel)])
                _ = try await publisher.publish([webhook(Topics.channelVacated, id: "evt-vacated-2", at: T + 530, channel: channel)])
                try await eventually("progress 30") { try await client.execute("HGET", "goal:{g1}", "progress").string == "30" }
                try await waitSettled(client)
            }
        }
    }

    @Test("presence events read in one batch are applied in event-time order, not stream order")
    func reorderedInOneBatch() async throws {
        try await withRedisServer { server in
            let client = server.client()
            var spec = referenceSpec()
            spec.targets = [1000]
            try await GoalStore(redis: client).create(spec)
            let publisher = Publisher(redis: client, configuration: tracedConfiguration)
            try await withFlow(server) {
                _ = try await publisher.publish([webhook(Topics.channelOccupied, id: "evt-occupied", at: T, channel: channel)])
                try await waitSettled(client)
            }
            // Stored while no consumer runs, so one XREADGROUP reads both: the re-occupy at T+500 comes first
            // in stream order (signal:channel_occupied sorts before signal:channel_vacated), the vacate at
            // T+400 first in event time.
            _ = try await publisher.publish([
                webhook(Topics.channelVacated, id: "evt-vacated", at: T + 400, channel: channel),
                webhook(Topics.channelOccupied, id: "evt-reoccupied", at: T + 500, channel: channel),
            ])
            try await withFlow(server) {
                try await waitSettled(client)
                let running = try await hashFields(client, "goal:{g1}")
                #expect(running["progress"] == "400")
                #expect(running["context.started"] == "\(T + 500)")
                _ = try await publisher.publish([webhook(Topics.channelVacated, id: "evt-vacated-2", at: T + 600, channel: channel)])
                try await waitSettled(client)
            }
            let goal = try await hashFields(client, "goal:{g1}")
            #expect(goal["progress"] == "500")
            #expect(goal["context.started"] == "\(T + 500)")
            #expect(goal["context.paused"] == "\(T + 600)")
            #expect(goal["context.last_updated"] == "\(T + 600)")
        }
    }

    @Test("the timer resumes on a new occupy and progress accumulates")
    func resume() async throws {
        try await withRedisServer { server in
            let client = server.client()
            var spec = referenceSpec()
            spec.targets = [1000]
            try await GoalStore(redis: client).create(spec)
            try await withFlow(server) {
                let publisher = Publisher(redis: client, configuration: tracedConfiguration)
                for (index, (topic, at)) in [
                    (Topics.channelOccupied, T), (Topics.channelVacated, T + 100),
                    (Topics.channelOccupied, T + 200), (Topics.channelOccupied, T + 210), (Topics.channelVacated, T + 350),
                ].enumerated() {
                    _ = try await publisher.publish([webhook(topic, id: "evt-\(index)", at: at, channel: channel)])
                    try await waitSettled(client)
                }
            }
            let goal = try await hashFields(client, "goal:{g1}")
            #expect(goal["progress"] == "250")
            #expect(goal["context.started"] == "\(T + 200)")
            #expect(goal["context.paused"] == "\(T + 350)")
            #expect(goal["level"] == "0")
            let progressed = try await streamEntries(client, "signal:goal.progressed")
            #expect(progressed.map { $0["amount"] } == ["100", "150"])
            #expect(progressed.map { $0["progress"] } == ["100", "250"])
            let second = try await traceRecords(client, "evt-3").first { $0.receiver == "trigger_online" }
            #expect(second?.reason == "timer already running")
        }
    }

    @Test("events for unknown goals and for channels that are not goal channels change no goal")
    func strangers() async throws {
        try await withRedisServer { server in
            let client = server.client()
            try await GoalStore(redis: client).create(referenceSpec())
            let before = try await snapshot(client)
            let longID = String(repeating: "a", count: 65)
            let channels = [
                "presence-enc-goal@nope", "presence-other-room", "private-chat", "presence-enc-goal@",
                "presence-enc-goal@bad.id", "presence-enc-goal@\(longID)", "presence-enc-goal@g1;x",
            ]
            var events: [OutgoingMessage] = []
            for (index, channel) in channels.enumerated() {
                events.append(webhook(Topics.channelOccupied, id: "occ-\(index)", at: T + Int64(index), channel: channel))
                events.append(webhook(Topics.channelVacated, id: "vac-\(index)", at: T + 400 + Int64(index), channel: channel))
            }
            for (index, channel) in channels.dropFirst().enumerated() {
                events.append(webhook(Topics.memberAdded, id: "add-\(index)", at: T + 10, channel: channel, user: "u\(index)"))
                events.append(webhook(Topics.memberRemoved, id: "rem-\(index)", at: T + 20, channel: channel, user: "u\(index)"))
            }
            // A webhook naming an unknown goal id with a goal channel of another goal is still not g1's business.
            events.append(OutgoingMessage(topic: Topics.channelVacated, id: "odd", atMs: (T + 500) * 1000, payload: [
                ("channel", "presence-other-room"), ("goal_id", "nope"), ("user_id", "v1"),
            ]))
            try await withFlow(server) {
                _ = try await Publisher(redis: client, configuration: tracedConfiguration).publish(events)
                try await waitSettled(client)
            }
            let after = try await snapshot(client)
            for key in before.keys.sorted() {
                #expect(after[key] == before[key], "\(key) changed")
            }
            let keys = try await allKeys(client)
            #expect(keys.filter { $0.hasPrefix("goal:") } == ["goal:{g1}"])
            let allowed = ["signal:", "task:", "trace:", "traces:", "tracking:", "goal:{g1}", "session:{s1}", "escrow:"]
            let unexpected = keys.filter { key in !allowed.contains { key.hasPrefix($0) } }
            #expect(unexpected.isEmpty, "unexpected keys: \(unexpected)")
            let tasks = try await lengths(client, ["task:increment_goal_progress", "task:deactivate_goal", "signal:goal.progressed", "signal:goal.ended"])
            #expect(tasks.values.allSatisfy { $0 == 0 }, "\(tasks)")
            let counters = try await hashFields(client, "tracking:counters")
            #expect(counters == [
                "channel_occupied": "\(channels.count)", "channel_vacated": "\(channels.count + 1)",
                "member_added": "\(channels.count - 1)", "member_removed": "\(channels.count - 1)",
            ])
            let nope = try await traceRecords(client, "vac-0").first { $0.receiver == "karaoke_control" }
            #expect(nope?.reason == "goal missing")
            let other = try await traceRecords(client, "vac-1").first { $0.receiver == "karaoke_control" }
            #expect(other?.reason == "not a goal channel")
        }
    }

    @Test("member_added and member_removed maintain presence:<channel> and do not touch the timer")
    func members() async throws {
        try await withRedisServer { server in
            let client = server.client()
            try await GoalStore(redis: client).create(referenceSpec())
            let goalBefore = try await hashFields(client, "goal:{g1}")
            try await withFlow(server) {
                let publisher = Publisher(redis: client, configuration: tracedConfiguration)
                _ = try await publisher.publish([
                    webhook(Topics.memberAdded, id: "add-u1", at: T, channel: channel, user: "u1"),
                    webhook(Topics.memberAdded, id: "add-u2", at: T + 1, channel: channel, user: "u2"),
                    webhook(Topics.memberAdded, id: "add-u3", at: T + 1, channel: channel, user: "u3"),
                    webhook(Topics.memberRemoved, id: "rem-u1", at: T + 2, channel: channel, user: "u1"),
                ])
                try await waitSettled(client)
                let members = try await client.execute("SMEMBERS", "presence:\(channel)").array?.compactMap(\.string).sorted()
                #expect(members == ["u2", "u3"])
                _ = try await publisher.publish([
                    webhook(Topics.memberRemoved, id: "rem-u2", at: T + 3, channel: channel, user: "u2"),
                    webhook(Topics.memberRemoved, id: "rem-u3", at: T + 4, channel: channel, user: "u3"),
                    webhook(Topics.memberAdded, id: "add-nobody", at: T + 5, channel: channel, user: nil),
                ])
                try await waitSettled(client)
            }
            let exists = try await integer(client, "EXISTS", "presence:\(channel)")
            #expect(exists == 0)
            let goalAfter = try await hashFields(client, "goal:{g1}")
            #expect(goalAfter == goalBefore)
            let counters = try await hashFields(client, "tracking:counters")
            #expect(counters == ["member_added": "4", "member_removed": "3"])
            let added = try await traceRecords(client, "add-u1").filter { $0.group == "karaoke" }
            #expect(added.map(\.receiver) == ["trigger_online", "trigger_user_enter", "karaoke_control"])
            #expect(added.map(\.acted) == [false, true, false])
            #expect(added.first?.reason == "acts on channel_occupied")
            #expect(added[1].writes.contains("SADD presence:\(channel) u1"))
            let nobody = try await traceRecords(client, "add-nobody").first { $0.receiver == "trigger_user_enter" }
            #expect(nobody?.reason == "no user_id")
        }
    }

    /// DESIGN: "presence events for a goal are applied in event-time order" — per member, for member events.
    @Test("member events are applied in event-time order: a late older event does not undo a newer one")
    func memberEventsInEventTimeOrder() async throws {
        try await withRedisServer { server in
            let client = server.client()
            try await GoalStore(redis: client).create(referenceSpec())
            try await withFlow(server) {
                let publisher = Publisher(redis: client, configuration: tracedConfiguration)
                _ = try await publisher.publish([
                    webhook(Topics.memberRemoved, id: "rem-u1", at: T + 10, channel: channel, user: "u1"),
                    webhook(Topics.memberAdded, id: "add-u2", at: T + 10, channel: channel, user: "u2"),
                ])
                try await waitSettled(client)
                // Both arrive late: u1 was added before it was removed, u2 removed before it was added.
                _ = try await publisher.publish([webhook(Topics.memberAdded, id: "add-u1", at: T + 5, channel: channel, user: "u1")])
                try await waitSettled(client)
                _ = try await publisher.publish([webhook(Topics.memberRemoved, id: "rem-u2", at: T + 5, channel: channel, user: "u2")])
                try await waitSettled(client)
            }
            let members = try await client.execute("SMEMBERS", "presence:\(channel)").array?.compactMap(\.string).sorted()
            #expect(members == ["u2"])
            let stale = try await traceRecords(client, "add-u1").first { $0.receiver == "trigger_user_enter" }
            #expect(stale?.acted == false)
            #expect(stale?.reason.hasPrefix("stale") == true)
        }
    }

    /// With whole-second times a re-occupy in the same second as the vacate must not read as a stopped timer
    /// (`context.paused ≥ context.started`), or the next vacate would add nothing.
    @Test("a channel re-occupied in the same second it was vacated runs the timer again")
    func reoccupiedInTheSameSecond() async throws {
        try await withRedisServer { server in
            let client = server.client()
            var spec = referenceSpec()
            spec.targets = [1000]
            try await GoalStore(redis: client).create(spec)
            try await withFlow(server) {
                let publisher = Publisher(redis: client, configuration: tracedConfiguration)
                for (index, (topic, at)) in [
                    (Topics.channelOccupied, T), (Topics.channelVacated, T + 100),
                    (Topics.channelOccupied, T + 100), (Topics.channelVacated, T + 200),
                ].enumerated() {
                    _ = try await publisher.publish([webhook(topic, id: "evt-\(index)", at: at, channel: channel)])
                    try await waitSettled(client)
                }
            }
            let progress = try await client.execute("HGET", "goal:{g1}", "progress").string
            #expect(progress == "200")
        }
    }
}
