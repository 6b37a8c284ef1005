import PusherWebhook
import Testing

@Suite struct WebhookChannelTests {
    @Test(arguments: [
        "presence-enc-goal@g1",
        "private-encrypted-a_b=c@d,e.f;g",
        "ABCxyz0189",
        String(repeating: "c", count: 164),
    ])
    func storesValidChannelNames(channel: String) throws {
        let webhook = try parse(body(events: #"[{"name":"channel_occupied","channel":"\#(channel)"}]"#))
        #expect(webhook.events == [WebhookEvent(name: "channel_occupied", channel: channel)])
        #expect(webhook.ignored == 0)
        #expect(WebhookEvent.isValidChannel(channel))
    }

    /// Each channel is written as a JSON string literal, escapes included.
    @Test(arguments: [
        (#""presence-enc-goal@*""#, "presence-enc-goal@*"),
        (#""presence-enc-goal@{goal_id}""#, "presence-enc-goal@{goal_id}"),
        (#""goal}""#, "goal}"),
        (#""presence enc""#, "presence enc"),
        (#""presence\nenc""#, "presence\nenc"),
        (#""a\u0000b""#, "a\u{0}b"),
        (#""goal:é""#, "goal:é"),
        (#""""#, ""),
        ("\"" + String(repeating: "c", count: 165) + "\"", String(repeating: "c", count: 165)),
        ("\"" + String(repeating: "c", count: 10 * 1024) + "\"", String(repeating: "c", count: 10 * 1024)),
    ])
    func skipsAndCountsInvalidChannelNames(literal: String, channel: String) throws {
        let webhook = try parse(
            body(
                events: #"[{"name":"channel_vacated","channel":\#(literal)},{"name":"channel_vacated","channel":"ok"}]"#
            )
        )
        #expect(webhook.events == [WebhookEvent(name: "channel_vacated", channel: "ok")])
        #expect(webhook.ignored == 1)
        #expect(!WebhookEvent.isValidChannel(channel))
    }
}
