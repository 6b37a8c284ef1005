import Foundation
import ServiceLifecycle
import UnixSignals

/// Exits the process at once on a second SIGTERM or SIGINT, for an operator who will not wait for the
/// graceful stop to finish. Messages in flight stay pending in their groups and are claimed by another
/// replica, so nothing is lost; the exit status is 1.
///
/// It runs first in the service group, so it is the last to be shut down and keeps listening while the
/// other services drain.
struct ForcedExit: Service {
    func run() async throws {
        var seen = 0
        for await _ in await UnixSignalsSequence(trapping: .sigterm, .sigint).cancelOnGracefulShutdown() {
            seen += 1
            if seen >= 2 {
                FileHandle.standardError.write(Data("second stop signal: exiting now; unfinished messages stay pending for another replica\n".utf8))
                exit(1)
            }
        }
    }
}
