import SignalBus

/// The `sessions` group: viewer windows, exclusive pairs, cache invalidation and the RTC snapshot task.
public enum SessionReceivers {
    /// Settings of the group.
    public struct Settings: Sendable {
        /// How long an ended exclusive pair is kept before `cleanup_expired_exclusive_goal_pairs` removes it.
        public var pairRetentionSeconds: Int64 = 86_400
        /// Creates the defaults.
        public init() {}
    }

    /// The group, its receivers in the seed's order per signal.
    public static func group(settings: Settings = Settings()) -> ReceiverGroup {
        ReceiverGroup(name: "sessions", receivers: [
            updateAndNotifySessionKaraokeGoal, notifyViewerChangeStreamForShow,
            setEmbeddedGoalEnded, produceLivestreamClipFromGoal, recordShowWithRTC,
            snapshotRTCSources, syncTriggerGoalSessionViewer,
            cleanupExpiredExclusiveGoalPairs(retention: settings.pairRetentionSeconds),
            invalidateCachedPusherChannelData,
            startSnapshot,
        ], prefetch: GoalPrefetch.goal(on: [Topics.goalEnded]), prefetchNamed: GoalPrefetch.session(on: [Topics.goalEnded]),
        traceFlagKey: GoalTraces.flagKey, sinks: [Keys.rtcOutbox, Keys.pusherOutbox])
    }

    static let updateAndNotifySessionKaraokeGoal = Receiver("update_and_notify_session_karaoke_goal", on: [Topics.goalProgressed], guard: { context in
        context.message["_cls"] == GoalClass.karaoke ? nil : "_cls is not KaraokeGoal"
    }, effect: { context in
        guard let sessionID = try context.goal()?["session_id"], !sessionID.isEmpty else { return }
        context.notify(channel: "presence-session@\(sessionID)", event: "karaoke-goal-updated", data: [
            ("goal_id", context.goalID ?? ""), ("progress", context.message["progress"] ?? ""),
        ])
    })

    static let notifyViewerChangeStreamForShow = Receiver("notify_viewer_change_stream_for_show", on: [Topics.goalProgressed], guard: { context in
        context.message["_cls"] == GoalClass.show ? nil : "_cls is not ShowGoal"
    }, effect: { context in
        context.notify(channel: GoalChannel.channel(of: context.goalID ?? ""), event: "viewer-change-stream", data: [("goal_id", context.goalID ?? "")])
    })

    /// On goal.ended: marks the session's exclusive pair ended and clears `status.exclusive_to`.
    static let setEmbeddedGoalEnded = Receiver("set_embedded_goal_ended", on: [Topics.goalCompleted, Topics.goalEnded], guard: { context in
        guard context.message.topic == Topics.goalEnded else { return "acts on goal.ended" }
        guard let session = try context.session() else { return "no session" }
        guard let viewer = try context.goal()?["exclusive_to"], !viewer.isEmpty,
              session["exclusive_goal_pairs.\(viewer).goal_id"] == context.goalID
        else { return "the session's exclusive pair is another goal's" }
        return nil
    }, effect: { context in
        let goal = try context.requireGoal()
        let session = try context.session()!
        let viewer = goal["exclusive_to"]!
        context.write(.hashSet(key: session.key, field: "exclusive_goal_pairs.\(viewer).exclusive_goal_ended", value: String(context.now)))
        context.write(.hashDelete(key: session.key, field: "status.exclusive_to"))
        context.write(.delete(key: Keys.sessionTokenViewCache(goal["session_id"]!)))
    })

    static let produceLivestreamClipFromGoal = Receiver("produce_livestream_clip_from_goal", on: [Topics.goalCompleted], guard: { context in
        context.message["_cls"] == GoalClass.livestream ? nil : "not a livestream goal"
    }, effect: { context in
        context.write(.streamAppend(key: Keys.rtcOutbox, fields: ["action", "clip", "goal_id", context.goalID ?? "", "cause", context.message.id]))
    })

    static let recordShowWithRTC = Receiver("record_show_with_rtc", on: [Topics.goalCompleted], guard: { context in
        context.message["_cls"] == GoalClass.show ? nil : "_cls is not ShowGoal"
    }, effect: { context in
        context.write(.streamAppend(key: Keys.rtcOutbox, fields: ["action", "record", "goal_id", context.goalID ?? "", "cause", context.message.id]))
    })

    /// Enqueues task StartSnapshot for the goal's session.
    static let snapshotRTCSources = Receiver("snapshot_rtc_sources", on: [Topics.goalEnded], guard: { _ in nil }, effect: { context in
        let sessionID = try context.goal()?["session_id"] ?? ""
        context.emit(Topics.startSnapshot, [("goal_id", context.goalID ?? ""), ("session_id", sessionID)])
    })

    /// Sets the viewer's window on the session from the ended goal.
    static let syncTriggerGoalSessionViewer = Receiver("sync_trigger_goal_session_viewer", on: [Topics.goalEnded], guard: { context in
        guard try context.session() != nil else { return "no session or viewer" }
        guard let viewer = try context.goal()?["exclusive_to"], !viewer.isEmpty else { return "no session or viewer" }
        return nil
    }, effect: { context in
        let goal = try context.requireGoal()
        let session = try context.session()!
        let viewer = goal["exclusive_to"]!
        let progress = Int64(context.message["progress"] ?? "") ?? 0
        let exp = Int64(context.message["exp"] ?? "") ?? context.now
        context.write(.hashSet(key: session.key, field: "viewers.\(viewer).duration", value: String(progress)))
        context.write(.hashSet(key: session.key, field: "viewers.\(viewer).exp", value: String(exp)))
        context.write(.hashSet(key: session.key, field: "viewers.\(viewer).nbf", value: String(exp - progress)))
        context.write(.delete(key: Keys.sessionTokenViewCache(goal["session_id"]!)))
    })

    /// Removes the session's exclusive pairs that ended longer ago than the retention.
    static func cleanupExpiredExclusiveGoalPairs(retention: Int64) -> Receiver {
        Receiver("cleanup_expired_exclusive_goal_pairs", on: [Topics.goalEnded], guard: { _ in nil }, effect: { context in
            guard let session = try context.session() else { return }
            let suffix = ".exclusive_goal_ended"
            for (field, value) in session.fields(withPrefix: "exclusive_goal_pairs.") where field.hasSuffix(suffix) {
                guard let ended = Int64(value), ended < context.now - retention else { continue }
                let pair = String(field.dropLast(suffix.count))
                context.write(.hashDelete(key: session.key, field: field))
                context.write(.hashDelete(key: session.key, field: pair + ".goal_id"))
            }
        })
    }

    /// Deletes the cached Pusher channel data of the goal's channel.
    static let invalidateCachedPusherChannelData = Receiver("invalidate_cached_pusher_channel_data", on: [Topics.goalProgressed, Topics.goalEnded], guard: { context in
        context.goalID == nil ? "no goal_id" : nil
    }, effect: { context in
        context.write(.delete(key: Keys.pusherChannelDataCache(GoalChannel.channel(of: try context.requireGoalID()))))
    })

    /// task StartSnapshot: hands the snapshot request to the RTC recorder's outbox.
    static let startSnapshot = Receiver("start_snapshot", on: [Topics.startSnapshot], guard: { context in
        guard let sessionID = context.message["session_id"], !sessionID.isEmpty else { return "no session" }
        return nil
    }, effect: { context in
        context.write(.streamAppend(key: Keys.rtcOutbox, fields: [
            "action", "snapshot", "goal_id", context.message["goal_id"] ?? "", "session_id", context.message["session_id"]!,
            "requested_at", String(context.now), "cause", context.message.id,
        ]))
    })
}
