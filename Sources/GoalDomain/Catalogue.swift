import SignalBus

/// The flow's receivers per signal, in the seed's order across groups, for drawing traces and for the
/// signal catalogue in `Docs/`.
public enum Catalogue {
    /// Every group of the flow.
    public static func groups() -> [ReceiverGroup] {
        [KaraokeReceivers.group(), TrackingReceivers.group(), GoalReceivers.group(), SessionReceivers.group(), EscrowReceivers.group()]
    }

    /// Every stream some group listens to.
    public static var topics: [Topic] {
        Array(Set(groups().flatMap(\.topics))).sorted()
    }

    /// The seed's order of receivers for a signal's bare name.
    public static func receivers(of signal: String) -> [String] {
        seedOrder[signal] ?? []
    }

    static let seedOrder: [String: [String]] = [
        "channel_vacated": ["trigger_online", "trigger_user_enter", "track_channel_presence", "karaoke_control"],
        "channel_occupied": ["trigger_online", "trigger_user_enter", "track_channel_presence", "karaoke_control"],
        "member_added": ["trigger_online", "trigger_user_enter", "track_channel_presence", "karaoke_control"],
        "member_removed": ["trigger_online", "trigger_user_enter", "track_channel_presence", "karaoke_control"],
        "increment_goal_progress": ["increment_goal_progress"],
        "goal.progressed": [
            "notify_goal_progress_updated", "update_and_notify_session_karaoke_goal", "notify_viewer_change_stream_for_show",
            "track_goals", "trigger_goal_complete", "trigger_exclusive_goal_escrow_refund", "invalidate_cached_pusher_channel_data",
        ],
        "goal.completed": [
            "notify_livestream_mvps", "set_embedded_goal_ended", "produce_livestream_clip_from_goal", "record_show_with_rtc",
            "trigger_show_escrow_transfer", "track_goals", "trigger_exclusive_escrow_transfer", "deactivate_goal",
        ],
        "deactivate_goal": ["deactivate_goal"],
        "goal.ended": [
            "trigger_show_escrow_refund", "handle_trigger_private_goal_escrow", "notify_stream_authorized_for_agreed_trigger_goal",
            "track_goals", "snapshot_rtc_sources", "sync_trigger_goal_session_viewer", "set_embedded_goal_ended", "notify_goal_ended",
            "trigger_exclusive_goal_escrow_refund", "cleanup_expired_exclusive_goal_pairs", "invalidate_cached_pusher_channel_data",
        ],
        "StartSnapshot": ["start_snapshot"],
    ]
}
