import SignalBus

/// One event to trigger on one channel: what an `outbox:pusher` entry asks for.
public struct PusherEvent: Sendable, Hashable {
    /// The channel, e.g. `presence-enc-goal@<goal_id>`.
    public var channel: String
    /// The event name, e.g. `goal-ended`.
    public var name: String
    /// The event's data as the clients receive it: JSON text, sent as a JSON string.
    public var data: String

    /// Creates an event.
    public init(channel: String, name: String, data: String) {
        self.channel = channel
        self.name = name
        self.data = data
    }

    /// The body of `POST /apps/<id>/events`: `{"name":…,"channels":[…],"data":"<data as a string>"}`.
    public var body: [UInt8] {
        Array(JSONText.object([
            ("name", JSONText.quoted(name)),
            ("channels", JSONText.array([JSONText.quoted(channel)])),
            ("data", JSONText.quoted(data)),
        ]).utf8)
    }
}
