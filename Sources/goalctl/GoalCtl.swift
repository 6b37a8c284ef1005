import ArgumentParser

/// `goalctl`: the operator's command line.
@main
struct GoalCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "goalctl",
        abstract: "Operate goal-signals: create and inspect goals, send test webhooks, trace chains, watch the bus, lag and dead letters.",
        discussion: """
            Reads REDIS_URL, PUSHER_APP_KEY and PUSHER_APP_SECRET from the environment, or CONFIG_FILE (default Config/local.json). \
            Every command answers --json with one JSON object or array (Docs/runbook.md lists the keys).
            """,
        version: buildVersion,
        subcommands: [
            GoalCommand.self, WebhookCommand.self, TraceCommand.self, TopCommand.self, LagCommand.self, DeadCommand.self, BenchCommand.self,
        ]
    )
}
