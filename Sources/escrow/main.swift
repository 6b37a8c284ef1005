import GoalDomain
import ServiceRuntime

await ReceiverMain.run(name: "escrow", makeGroup: { _ in EscrowReceivers.group() })
