/// One event of a Pusher webhook that the gateway stores: its name is known and its channel name is valid.
public struct WebhookEvent: Sendable, Hashable {
    /// The event name, one of ``knownNames``.
    public var name: String
    /// The channel, e.g. `presence-enc-goal@g1`.
    public var channel: String
    /// `user_id`, sent with member and client events.
    public var userID: String?
    /// `event`: the client event's own name, for `client_event`.
    public var event: String?
    /// `data` of a `client_event`: a string as sent, any other JSON value serialised compactly.
    public var data: String?
    /// `socket_id`, sent with client events.
    public var socketID: String?
    /// `subscription_count`, sent as a number or a numeric string.
    public var subscriptionCount: Int?

    /// Creates an event; absent fields are `nil`.
    public init(
        name: String,
        channel: String,
        userID: String? = nil,
        event: String? = nil,
        data: String? = nil,
        socketID: String? = nil,
        subscriptionCount: Int? = nil
    ) {
        self.name = name
        self.channel = channel
        self.userID = userID
        self.event = event
        self.data = data
        self.socketID = socketID
        self.subscriptionCount = subscriptionCount
    }
}
