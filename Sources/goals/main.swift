import GoalDomain
import ServiceRuntime
import SignalBus

await ReceiverMain.run(name: "goals", makeGroup: { _ in GoalReceivers.group() }, extraServices: { settings, redis, bus, logger in
    let period = try settings.int("expiry.sweep.seconds", default: 5, in: 1...3600)
    return [ExpirySweep(redis: redis, period: .seconds(period), bus: bus, logger: logger)]
})
