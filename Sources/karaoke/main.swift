import GoalDomain
import ServiceRuntime

await ReceiverMain.run(name: "karaoke", makeGroup: { _ in KaraokeReceivers.group() })
