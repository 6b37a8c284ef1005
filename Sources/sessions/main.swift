import GoalDomain
import ServiceRuntime

await ReceiverMain.run(name: "sessions", makeGroup: { settings in
    var group = SessionReceivers.Settings()
    group.pairRetentionSeconds = Int64(try settings.int("pairs.retention.seconds", default: 86_400, in: 0...Int.max))
    return SessionReceivers.group(settings: group)
})
