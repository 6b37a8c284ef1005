import ArgumentParser

/// `goalctl`: the operator's command line.
@main
struct GoalCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "goalctl",
        abstract: "Operate goal-signals: create and inspect goals, send test webhooks, trace chains, watch lag and dead letters.",
        discussion: "Reads REDIS_URL, PUSHER_APP_KEY and PUSHER_APP_SECRET from the environment, or CONFIG_FILE (default Config/local.json).",
        subcommands: [GoalCommand.self, WebhookCommand.self, TraceCommand.self, LagCommand.self, DeadCommand.self, BenchCommand.self]
    )
}
