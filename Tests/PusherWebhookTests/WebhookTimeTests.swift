import PusherWebhook
import Testing

@Suite struct WebhookTimeTests {
    private func events(_ time: String) -> String {
        #"{\#(time),"events":[{"name":"channel_vacated","channel":"presence-enc-goal@g1","user_id":"u1"}]}"#
    }

    @Test func usesTheReceiveTimeWithoutATimeField() throws {
        let webhook = try parse(#"{"events":[]}"#, receivedAt: 1_795_687_200_123)
        #expect(webhook.timeMs == 1_795_687_200_123)
    }

    @Test func acceptsTheSeedBodyWithAnEmptyTimestamp() throws {
        let seed = #"""
            {
                "timestamp": "",
                "events": [
                    {
                        "name": "",
                        "channel": "presence-enc-goal@{goal_id}",
                        "user_id": ""
                    }
                ]
            }
            """#
        #expect(try parse(seed) == Webhook(timeMs: receivedAtMs, events: [], ignored: 1))
    }

    @Test func storesTheSeedEventOnceItIsFilledIn() throws {
        let webhook = try parse(events(#""timestamp": """#))
        #expect(
            webhook
                == Webhook(
                    timeMs: receivedAtMs,
                    events: [WebhookEvent(name: "channel_vacated", channel: "presence-enc-goal@g1", userID: "u1")],
                    ignored: 0
                )
        )
    }

    @Test(arguments: [
        (#""time_ms":1732600000123"#, Int64(1_732_600_000_123)),
        (#""time_ms":null"#, receivedAtMs),
        (#""timestamp":null"#, receivedAtMs),
        (#""timestamp":1732600000"#, 1_732_600_000_000),
        (#""timestamp":1732600000.25"#, 1_732_600_000_250),
        (#""timestamp":1.7326e9"#, 1_732_600_000_000),
        (#""timestamp":1732600000123"#, 1_732_600_000_123),
        (#""timestamp":1732600000123.4"#, 1_732_600_000_123),
        (#""timestamp":"2024-11-26T05:46:40Z""#, 1_732_600_000_000),
        (#""timestamp":"2024-11-26T05:46:40.5Z""#, 1_732_600_000_500),
        (#""timestamp":"2024-11-26T05:46:40.123456789z""#, 1_732_600_000_123),
        (#""timestamp":"2024-11-26T07:16:40+01:30""#, 1_732_600_000_000),
        (#""timestamp":"2024-11-26T06:46:40+0100""#, 1_732_600_000_000),
        (#""timestamp":"2024-11-26T00:46:40-05""#, 1_732_600_000_000),
        (#""timestamp":"2024-11-26t05:46:40.250-00:00""#, 1_732_600_000_250),
        (#""time_ms":1732600000001,"timestamp":"2000-01-01T00:00:00Z""#, 1_732_600_000_001),
        (#""timestamp":1,"time_ms":1732600000002"#, 1_732_600_000_002),
    ])
    func resolvesTheEventTime(time: String, expected: Int64) throws {
        #expect(try parse(events(time)).timeMs == expected)
    }

    /// Values computed independently with Python's `datetime.fromisoformat`.
    @Test(arguments: [
        ("2026-11-26T10:00:00Z", Int64(1_795_687_200_000)),
        ("2026-11-26T10:00:00.250Z", 1_795_687_200_250),
        ("2026-11-26T11:30:00+01:30", 1_795_687_200_000),
        ("2024-02-29T23:59:59.999-05:00", 1_709_269_199_999),
        ("2000-03-01T00:00:00Z", 951_868_800_000),
        ("1969-12-31T23:59:59Z", -1000),
    ])
    func readsISO8601Timestamps(text: String, expected: Int64) throws {
        let webhook = try parse(events(#""timestamp":"\#(text)""#), receivedAt: expected)
        #expect(webhook.timeMs == expected)
    }

    @Test(arguments: [
        "2026-11-26T10:00:00",
        "2026-11-26 10:00:00Z",
        "2026-02-29T10:00:00Z",
        "2026-13-01T10:00:00Z",
        "2026-11-26T24:00:00Z",
        "2026-11-26T10:00:60Z",
        "2026-11-26T10:00:00.Z",
        "2026-11-26T10:00:00+25:00",
        "2026-11-26T10:00:00+01:",
        "2026-11-26T10:00:00Z ",
        "26-11-26T10:00:00Z",
        "1732600000",
        "yesterday",
    ])
    func refusesOtherTimestampStrings(text: String) {
        #expect(
            throws: WebhookError(
                field: "timestamp", message: "must be an ISO-8601 date-time with a zone, like 2026-11-26T10:00:00Z"
            )
        ) {
            try parse(events(#""timestamp":"\#(text)""#), receivedAt: 1_795_687_200_000)
        }
    }

    @Test(arguments: [
        (#""time_ms":"1732600000000""#, "time_ms", "must be an integer of Unix milliseconds, not a string"),
        (#""time_ms":true"#, "time_ms", "must be an integer of Unix milliseconds, not a boolean"),
        (#""time_ms":1732600000000.0"#, "time_ms", "must be an integer of Unix milliseconds within 64 bits"),
        (
            #""time_ms":1732600000000,"timestamp":[]"#, "timestamp",
            "must be Unix seconds or milliseconds, or an ISO-8601 string, not an array"
        ),
        (#""timestamp":{}"#, "timestamp", "must be Unix seconds or milliseconds, or an ISO-8601 string, not an object"),
    ])
    func refusesTimeFieldsOfTheWrongType(time: String, field: String, message: String) {
        #expect(throws: WebhookError(field: field, message: message)) {
            try parse(events(time))
        }
    }

    @Test func acceptsTimesExactlyAtTheWindowEdges() throws {
        #expect(try parse(events(#""time_ms":1732599400000"#)).timeMs == 1_732_599_400_000)
        #expect(try parse(events(#""time_ms":1732600600000"#)).timeMs == 1_732_600_600_000)
    }

    @Test(arguments: [
        (#""time_ms":1732599399999"#, "time_ms", "stale: 600001 ms before the time of receipt (window 600000 ms)"),
        (
            #""time_ms":1732600600001"#, "time_ms",
            "in the future: 600001 ms after the time of receipt (window 600000 ms)"
        ),
        (#""timestamp":1732599000"#, "timestamp", "stale: 1000000 ms before the time of receipt (window 600000 ms)"),
        (
            #""timestamp":"2024-11-26T06:00:00Z""#, "timestamp",
            "in the future: 800000 ms after the time of receipt (window 600000 ms)"
        ),
        (
            #""time_ms":1,"timestamp":1732600000"#, "time_ms",
            "stale: 1732599999999 ms before the time of receipt (window 600000 ms)"
        ),
        (
            #""time_ms":-9223372036854775808"#, "time_ms",
            "stale: 9223373769454775808 ms before the time of receipt (window 600000 ms)"
        ),
        (
            #""time_ms":9223372036854775807"#, "time_ms",
            "in the future: 9223370304254775807 ms after the time of receipt (window 600000 ms)"
        ),
    ])
    func refusesTimesOutsideTheWindow(time: String, field: String, message: String) {
        #expect(throws: WebhookError(field: field, message: message)) {
            try parse(events(time))
        }
    }

    @Test func honoursACustomWindow() throws {
        let parser = WebhookParser(timeWindow: .milliseconds(1500))
        #expect(parser.timeWindow == .milliseconds(1500))
        let inside = Array(events(#""time_ms":1732600001500"#).utf8)
        #expect(try parser.parse(inside, receivedAtMs: receivedAtMs).timeMs == 1_732_600_001_500)
        let outside = Array(events(#""time_ms":1732599998499"#).utf8)
        #expect(
            throws: WebhookError(
                field: "time_ms", message: "stale: 1501 ms before the time of receipt (window 1500 ms)")
        ) {
            try parser.parse(outside, receivedAtMs: receivedAtMs)
        }
    }
}
