import PusherWebhook
import Testing

/// Bodies an attacker might send: each is refused with the expected field, or skipped, and never crashes.
@Suite struct WebhookHostileInputTests {
    @Test(arguments: [
        ("hello", "invalid JSON at byte 0: unexpected character 'h'"),
        ("{", "invalid JSON at byte 1: expected a string key"),
        (#"{"events":[]"#, "invalid JSON at byte 12: expected ',' or '}' in an object"),
        (#"{"events":[]}{}"#, "invalid JSON at byte 13: unexpected data after the JSON value"),
        (#"{"events":[]} trailing"#, "invalid JSON at byte 14: unexpected data after the JSON value"),
        (#"{"events":[],"events":[]}"#, #"invalid JSON at byte 13: duplicate key "events""#),
        (#"{"events":[{"name":"a","name":"b"}]}"#, #"invalid JSON at byte 23: duplicate key "name""#),
        (
            #"{"events":[{"name":"channel_vacated","channel":"\ud800"}]}"#,
            #"invalid JSON at byte 48: lone high surrogate in a \u escape"#
        ),
        (
            #"{"events":[{"name":"channel_vacated","channel":"\udfff"}]}"#,
            #"invalid JSON at byte 48: lone low surrogate in a \u escape"#
        ),
        (
            "{\"events\":[{\"name\":\"channel_vacated\",\"channel\":\"a\u{1}\"}]}",
            "invalid JSON at byte 49: control character byte 0x01 in a string"
        ),
    ])
    func refusesBodiesThatAreNotJSON(body: String, message: String) {
        #expect(throws: WebhookError(field: "body", message: message)) {
            try parse(body)
        }
    }

    @Test func refusesInvalidUTF8Bytes() {
        let prefix = Array(#"{"events":[{"name":"channel_vacated","channel":"a"#.utf8)
        let body = prefix + [0xC0, 0x80] + Array(#""}]}"#.utf8)
        #expect(
            throws: WebhookError(field: "body", message: "invalid JSON at byte 49: invalid UTF-8 byte 0xC0")
        ) {
            try WebhookParser().parse(body, receivedAtMs: receivedAtMs)
        }
    }

    @Test func refusesTenThousandNestedArrays() {
        #expect(
            throws: WebhookError(field: "body", message: "invalid JSON at byte 64: nesting deeper than 64 levels")
        ) {
            try parse(String(repeating: "[", count: 10_000))
        }
    }

    @Test func refusesDeepClientEventData() {
        let prefix = #"{"events":[{"name":"client_event","channel":"c","data":"#
        let body = prefix + String(repeating: "[", count: 70) + String(repeating: "]", count: 70) + "}]}"
        // The object, `events` and the event take three levels: the 62nd `[` of `data` is level 65.
        #expect(
            throws: WebhookError(
                field: "body", message: "invalid JSON at byte \(prefix.utf8.count + 61): nesting deeper than 64 levels"
            )
        ) {
            try parse(body)
        }
    }

    @Test func parsesAHugeArrayOfEvents() throws {
        let event = #"{"name":"member_added","channel":"presence-enc-goal@g1","user_id":"u"}"#
        let unknown = #"{"name":"member_exploded","channel":"presence-enc-goal@g1"}"#
        let events = Array(repeating: event, count: 20_000) + Array(repeating: unknown, count: 30_000)
        let webhook = try parse(body(events: "[" + events.joined(separator: ",") + "]"))
        #expect(webhook.events.count == 20_000)
        #expect(webhook.events.last == WebhookEvent(name: "member_added", channel: "presence-enc-goal@g1", userID: "u"))
        #expect(webhook.ignored == 30_000)
    }

    @Test func keepsAHugeUserIDAndSkipsAHugeChannel() throws {
        let huge = String(repeating: "x", count: 1 << 20)
        let webhook = try parse(
            body(
                events: #"""
                    [{"name":"member_added","channel":"c","user_id":"\#(huge)"},
                     {"name":"member_added","channel":"\#(huge)"}]
                    """#
            )
        )
        #expect(webhook.events == [WebhookEvent(name: "member_added", channel: "c", userID: huge)])
        #expect(webhook.ignored == 1)
    }

    @Test(arguments: [
        (#""time_ms":1e999"#, "time_ms", "must be an integer of Unix milliseconds within 64 bits"),
        (#""time_ms":-1e999"#, "time_ms", "must be an integer of Unix milliseconds within 64 bits"),
        (
            #""time_ms":123456789012345678901234567890"#, "time_ms",
            "must be an integer of Unix milliseconds within 64 bits"
        ),
        (#""time_ms":9223372036854775808"#, "time_ms", "must be an integer of Unix milliseconds within 64 bits"),
        (#""timestamp":1e999"#, "timestamp", "is out of range"),
        (#""timestamp":-1e999"#, "timestamp", "is out of range"),
        (#""timestamp":123456789012345678901234567890"#, "timestamp", "is out of range"),
        (#""timestamp":-9223372036854775808"#, "timestamp", "is out of range"),
        (#""timestamp":9.3e18"#, "timestamp", "is out of range"),
    ])
    func refusesNumbersOutOfRange(time: String, field: String, message: String) {
        #expect(throws: WebhookError(field: field, message: message)) {
            try parse(#"{\#(time),"events":[]}"#)
        }
    }

    @Test func skipsEventNamesThatLookLikeRedisKeys() throws {
        let webhook = try parse(
            body(
                events:
                    #"[{"name":"signal:*","channel":"c"},{"name":"../../etc","channel":"c"},{"name":"\u0000","channel":"c"}]"#
            )
        )
        #expect(webhook == Webhook(timeMs: receivedAtMs, events: [], ignored: 3))
    }
}
