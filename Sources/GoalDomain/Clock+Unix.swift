#if canImport(Glibc)
import Glibc
#endif

/// Wall-clock time, for the few places that start a chain (the gateway, the sweep, operators).
public enum Clock {
    /// Milliseconds since the Unix epoch.
    public static func unixMilliseconds() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return now.tv_sec * 1000 + now.tv_nsec / 1_000_000
    }
}
