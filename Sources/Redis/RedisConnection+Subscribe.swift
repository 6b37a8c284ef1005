import CHiredis
#if canImport(Glibc)
import Glibc
#endif

extension RedisConnection {
    /// Waits for the next reply the server pushes without being asked, as it does after `SUBSCRIBE`.
    ///
    /// Send `SUBSCRIBE` (or `PSUBSCRIBE`) with ``send(_:timeout:)`` first; its confirmation is that call's reply.
    /// - Parameter timeout: how long to wait; waiting ends early without breaking the connection.
    /// - Returns: the pushed reply (for a message, `["message", channel, payload]`), or `nil` when `timeout`
    ///   passed first.
    /// - Throws: ``RedisError`` when the connection fails or was never opened; it is then discarded.
    public func receive(timeout: Duration) throws(RedisError) -> RedisValue? {
        guard let context = openContext else {
            throw RedisError(code: .closed, message: "no open connection to \(configuration.address) to receive on")
        }
        var raw: UnsafeMutableRawPointer?
        // A reply already read into hiredis's buffer comes first, without touching the socket.
        if redisGetReplyFromReader(context, &raw) != REDIS_OK { throw fail(context, during: nil) }
        if raw == nil {
            var descriptor = pollfd(fd: context.pointee.fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, Int32(clamping: timeout.milliseconds))
            if ready == 0 || (ready < 0 && errno == EINTR) { return nil }
            guard redisGetReply(context, &raw) == REDIS_OK, raw != nil else { throw fail(context, during: nil) }
        }
        guard let raw else { return nil }
        let reply = RedisValue(copying: raw.assumingMemoryBound(to: redisReply.self))
        releaseReplies()
        return reply
    }
}
