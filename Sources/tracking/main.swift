import GoalDomain
import ServiceRuntime

await ReceiverMain.run(name: "tracking", makeGroup: { _ in TrackingReceivers.group() })
