import PusherWebhook
import Testing

@Suite struct WebhookParserTests {
    @Test func parsesARealPusherBody() throws {
        let webhook = try parse(
            #"{"time_ms":1732600000000,"events":[{"name":"channel_vacated","channel":"presence-enc-goal@g1","user_id":"u1"}]}"#
        )
        #expect(
            webhook
                == Webhook(
                    timeMs: 1_732_600_000_000,
                    events: [WebhookEvent(name: "channel_vacated", channel: "presence-enc-goal@g1", userID: "u1")],
                    ignored: 0
                )
        )
    }

    @Test(arguments: [
        "channel_occupied", "channel_vacated", "member_added", "member_removed", "client_event", "cache_miss",
        "subscription_count",
    ])
    func storesEveryKnownName(name: String) throws {
        let webhook = try parse(body(events: #"[{"name":"\#(name)","channel":"presence-enc-goal@g1"}]"#))
        #expect(webhook.events == [WebhookEvent(name: name, channel: "presence-enc-goal@g1")])
        #expect(webhook.ignored == 0)
    }

    @Test func knowsExactlyPushersSevenNames() {
        #expect(
            WebhookEvent.knownNames == [
                "channel_occupied", "channel_vacated", "member_added", "member_removed", "client_event", "cache_miss",
                "subscription_count",
            ]
        )
    }

    @Test func keepsABatchInOrder() throws {
        let webhook = try parse(
            body(
                events: #"""
                    [{"name":"channel_occupied","channel":"presence-enc-goal@g1"},
                     {"name":"member_added","channel":"presence-enc-goal@g1","user_id":"u1"},
                     {"name":"member_removed","channel":"presence-enc-goal@g1","user_id":"u1"},
                     {"name":"channel_vacated","channel":"presence-enc-goal@g1"}]
                    """#
            )
        )
        #expect(
            webhook.events == [
                WebhookEvent(name: "channel_occupied", channel: "presence-enc-goal@g1"),
                WebhookEvent(name: "member_added", channel: "presence-enc-goal@g1", userID: "u1"),
                WebhookEvent(name: "member_removed", channel: "presence-enc-goal@g1", userID: "u1"),
                WebhookEvent(name: "channel_vacated", channel: "presence-enc-goal@g1"),
            ]
        )
    }

    @Test func keepsClientEventStringDataAsSent() throws {
        let webhook = try parse(
            body(
                events: #"""
                    [{"name":"client_event","channel":"private-chat","event":"client-typing",
                      "data":"{\"x\": 1}","socket_id":"123.456","user_id":"u2"}]
                    """#
            )
        )
        #expect(
            webhook.events == [
                WebhookEvent(
                    name: "client_event", channel: "private-chat", userID: "u2", event: "client-typing",
                    data: #"{"x": 1}"#, socketID: "123.456"
                )
            ]
        )
    }

    @Test(arguments: [
        (#"{ "b" : [1, "two"], "a" : null }"#, #"{"b":[1,"two"],"a":null}"#),
        ("[ ]", "[]"),
        ("42", "42"),
        ("-1.50e2", "-1.50e2"),
        ("true", "true"),
    ])
    func serialisesOtherClientEventDataCompactly(data: String, expected: String) throws {
        let webhook = try parse(body(events: #"[{"name":"client_event","channel":"c","data":\#(data)}]"#))
        #expect(webhook.events == [WebhookEvent(name: "client_event", channel: "c", data: expected)])
    }

    @Test(arguments: [("5", 5), (#""12""#, 12), (#""0""#, 0), ("0", 0), (#""007""#, 7)])
    func readsSubscriptionCountAsNumberOrString(count: String, expected: Int) throws {
        let webhook = try parse(
            body(events: #"[{"name":"subscription_count","channel":"c","subscription_count":\#(count)}]"#)
        )
        #expect(
            webhook.events == [WebhookEvent(name: "subscription_count", channel: "c", subscriptionCount: expected)]
        )
    }

    @Test(arguments: [
        ("-3", "must be a non-negative integer"),
        ("1.5", "must be a non-negative integer"),
        ("1e999", "must be a non-negative integer"),
        (#""-1""#, "must be a non-negative integer or a string of its decimal digits"),
        (#""12a""#, "must be a non-negative integer or a string of its decimal digits"),
        (#""""#, "must be a non-negative integer or a string of its decimal digits"),
        (#""99999999999999999999""#, "must be a non-negative integer or a string of its decimal digits"),
        ("true", "must be a number or a numeric string, not a boolean"),
        ("[1]", "must be a number or a numeric string, not an array"),
    ])
    func refusesABadSubscriptionCount(count: String, message: String) {
        #expect(throws: WebhookError(field: "events[0].subscription_count", message: message)) {
            try parse(body(events: #"[{"name":"subscription_count","channel":"c","subscription_count":\#(count)}]"#))
        }
    }

    @Test func treatsNullOptionalFieldsAsAbsent() throws {
        let webhook = try parse(
            body(
                events: #"""
                    [{"name":"client_event","channel":"c","user_id":null,"event":null,"data":null,
                      "socket_id":null,"subscription_count":null}]
                    """#
            )
        )
        #expect(webhook.events == [WebhookEvent(name: "client_event", channel: "c")])
    }

    @Test func ignoresUnknownFields() throws {
        let webhook = try parse(
            #"{"time_ms":1732600000000,"extra":{"deep":[1]},"events":[{"name":"cache_miss","channel":"c","x":[]}]}"#
        )
        #expect(
            webhook
                == Webhook(
                    timeMs: 1_732_600_000_000, events: [WebhookEvent(name: "cache_miss", channel: "c")], ignored: 0))
    }

    @Test func skipsAndCountsUnknownNames() throws {
        let webhook = try parse(
            body(
                events: #"""
                    [{"name":"channel_exploded","channel":"c"},{"name":"","channel":"c"},
                     {"name":"CHANNEL_VACATED","channel":"c"},{"name":"channel_vacated","channel":"c"},
                     {"name":"goal:{g1}","channel":"c"}]
                    """#
            )
        )
        #expect(webhook.events == [WebhookEvent(name: "channel_vacated", channel: "c")])
        #expect(webhook.ignored == 4)
    }

    @Test func acceptsAnEmptyBatch() throws {
        #expect(try parse(body(events: "[]")) == Webhook(timeMs: 1_732_600_000_000, events: [], ignored: 0))
    }

    @Test(arguments: [
        (body(events: #"[{"channel":"c"}]"#), "events[0].name", "is required"),
        (body(events: #"[{"name":"channel_vacated"}]"#), "events[0].channel", "is required"),
        (body(events: #"[{"name":7,"channel":"c"}]"#), "events[0].name", "must be a string, not a number"),
        (
            body(events: #"[{"name":"channel_vacated","channel":null}]"#), "events[0].channel",
            "must be a string, not null"
        ),
        (
            body(
                events: #"[{"name":"member_added","channel":"c"},{"name":"member_added","channel":"c","user_id":42}]"#),
            "events[1].user_id", "must be a string, not a number"
        ),
        (
            body(events: #"[{"name":"client_event","channel":"c","event":{}}]"#), "events[0].event",
            "must be a string, not an object"
        ),
        (
            body(events: #"[{"name":"client_event","channel":"c","socket_id":1.5}]"#), "events[0].socket_id",
            "must be a string, not a number"
        ),
        (
            body(events: #"[{"name":"nope","channel":"c","user_id":false}]"#), "events[0].user_id",
            "must be a string, not a boolean"
        ),
        (body(events: #"[{"name":"cache_miss","channel":"c"},{},[]]"#), "events[1].name", "is required"),
        (body(events: #"[{"name":"cache_miss","channel":"c"},"x"]"#), "events[1]", "must be an object, not a string"),
        (body(events: #"{}"#), "events", "must be an array, not an object"),
        (body(events: #""[]""#), "events", "must be an array, not a string"),
        (body(events: "null"), "events", "must be an array, not null"),
        (#"{"time_ms":1732600000000}"#, "events", "is required"),
        ("[]", "body", "must be a JSON object, not an array"),
        (#""{}""#, "body", "must be a JSON object, not a string"),
        ("", "body", "invalid JSON at byte 0: unexpected end of input"),
    ])
    func refusesABodyThatBreaksTheSchema(body: String, field: String, message: String) {
        #expect(throws: WebhookError(field: field, message: message)) {
            try parse(body)
        }
    }

    @Test func describesErrorsWithTheirField() {
        #expect(
            WebhookError(field: "events[3].channel", message: "is required").description
                == "events[3].channel: is required")
    }
}
