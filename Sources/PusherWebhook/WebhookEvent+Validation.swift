extension WebhookEvent {
    /// Pusher's webhook event names; events with any other name are skipped.
    public static let knownNames: Set<String> = [
        "channel_occupied",
        "channel_vacated",
        "member_added",
        "member_removed",
        "client_event",
        "cache_miss",
        "subscription_count",
    ]

    /// The longest valid channel name, in characters.
    public static let maxChannelLength = 164

    /// Whether `channel` is a valid Pusher channel name: 1 to 164 characters from `[A-Za-z0-9_\-=@,.;]`.
    public static func isValidChannel(_ channel: String) -> Bool {
        let utf8 = channel.utf8
        return (1...maxChannelLength).contains(utf8.count) && utf8.allSatisfy(isChannelByte)
    }

    private static func isChannelByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        case UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "="), UInt8(ascii: "@"), UInt8(ascii: ","),
            UInt8(ascii: "."), UInt8(ascii: ";"):
            true
        default:
            false
        }
    }
}
