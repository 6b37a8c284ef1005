import GoalDomain
import ServiceRuntime
import SignalBus

await ReceiverMain.run(name: "goals", makeGroup: { _ in GoalReceivers.group() }, extraServices: { settings, redis, bus, logger in
    let period = try settings.int("expiry.sweep.seconds", default: 5, in: 1...3600)
    // The sweep starts chains of its own: it waits while some group's backlog is past its limit.
    let backpressure = Backpressure(measuredFirst: true)
    return [
        BacklogMonitor(redis: redis, streams: BusStreams.all(bus), configuration: bus, backpressure: backpressure, logger: logger),
        ExpirySweep(redis: redis, period: .seconds(period), bus: bus, backpressure: backpressure, logger: logger),
    ]
})
