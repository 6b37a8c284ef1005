/// Values of a goal's `_cls`.
public enum GoalClass {
    public static let exclusive = "ExclusiveGoal"
    public static let karaoke = "KaraokeGoal"
    public static let show = "ShowGoal"
    public static let trigger = "TriggerGoal"
    public static let privateTrigger = "PrivateTriggerGoal"
    public static let livestream = "LivestreamGoal"
}
