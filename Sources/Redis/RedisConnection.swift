import CHiredis
import CReplyArena
#if canImport(Glibc)
import Glibc
#endif

/// One blocking connection to Redis through hiredis.
///
/// Every call blocks the calling thread until the server answers, so a `RedisConnection` is only ever used
/// from a thread of its own: ``RedisClient`` owns one and runs it on a dedicated ``ThreadExecutor``, and the
/// signal bus gives each consumer its own client. It is not `Sendable` and must have exactly one owner.
///
/// A hiredis context cannot be reused after an error, so any connection failure discards it; the next
/// command connects again, waiting with exponential backoff while the server stays unreachable.
///
/// Round trips cost no system call beyond their own write and reads:
/// - A connection idle for ``RedisConfiguration/idlePeerCheck`` or longer (since its last reply) first
///   checks, with one `poll`, whether the server closed it meanwhile (a restart), and then reconnects before
///   sending. A server that closes a connection busier than that is noticed by the command that follows, which
///   fails (``RedisError/Code/closed``); the command after it connects again.
/// - Replies are built in an arena of the connection's own (`CReplyArena`), not one allocation per reply
///   object and string: the whole pipeline's replies are released at once when they have been decoded.
/// - The socket's timeout is set only when it changes. A connection that has served a command with a timeout
///   longer than the command timeout (a blocking read such as `XREADGROUP … BLOCK`) keeps that longer
///   timeout for the commands that follow without one, instead of switching back and forth around every
///   blocking read; a command given its own timeout always gets exactly that.
public final class RedisConnection {
    /// Where this connection goes.
    public let configuration: RedisConfiguration
    private var context: UnsafeMutablePointer<redisContext>?
    private var reconnectDelay: Duration = .zero
    private var nextAttempt: ContinuousClock.Instant?
    /// The socket's timeout; `.zero` when not set since connecting.
    private var currentTimeout: Duration
    /// When the last reply came.
    private var lastReply: ContinuousClock.Instant = .now
    /// Where the reader builds replies; emptied when the outermost round trip has decoded them.
    private let arena: OpaquePointer
    /// Round trips in progress: one sent again as `EVAL` runs inside the decoding of the first.
    private var roundTripDepth = 0

    private static let initialBackoff: Duration = .milliseconds(20)
    private static let maximumBackoff: Duration = .seconds(2)

    /// Creates a connection; it connects on first use.
    public init(configuration: RedisConfiguration) {
        self.configuration = configuration
        self.currentTimeout = configuration.commandTimeout
        guard let arena = gs_reply_arena_create() else { fatalError("cannot allocate the reply arena of a Redis connection") }
        self.arena = arena
    }

    deinit {
        if let context { redisFree(context) }
        gs_reply_arena_free(arena)
    }

    /// Sends one command and waits for its reply.
    ///
    /// - Parameter timeout: overrides the command timeout for this call (for blocking commands such as `XREADGROUP BLOCK`).
    /// - Returns: the reply; an error reply is returned as ``RedisValue/error(_:)``, not thrown.
    /// - Throws: ``RedisError`` when the connection fails; the connection is then discarded.
    public func send(_ command: RedisCommand, timeout: Duration? = nil) throws(RedisError) -> RedisValue {
        try send([command], timeout: timeout)[0]
    }

    /// Sends commands in one pipeline and returns their replies in order.
    ///
    /// `EVALSHA` replies of `NOSCRIPT` are retried as `EVAL` with the script's source, after the rest of the
    /// pipeline (a script that was not cached did not run, so only its position in the pipeline changes).
    public func send(_ commands: [RedisCommand], timeout: Duration? = nil) throws(RedisError) -> [RedisValue] {
        try send(commands, timeout: timeout) { reply throws(RedisError) in reply.value }
    }

    /// Sends commands in one pipeline and decodes their replies in place, in order: `decode` reads each
    /// reply where hiredis parsed it (see ``RedisReplyView``), so no ``RedisValue`` is made.
    ///
    /// Every reply of the pipeline is read before the first is decoded, so a decoder that throws leaves the
    /// connection in step with the server. `EVALSHA` replies of `NOSCRIPT` are retried as `EVAL` with the
    /// script's source, after the rest of the pipeline, as ``send(_:timeout:)`` does.
    public func send<Decoded>(
        _ commands: [RedisCommand], timeout: Duration? = nil, decoding decode: (RedisReplyView) throws(RedisError) -> Decoded
    ) throws(RedisError) -> [Decoded] {
        guard !commands.isEmpty else { return [] }
        return try roundTrip(commands, on: liveContext(), timeout: timeout) { index, reply throws(RedisError) in
            if reply.isError(startingWith: "NOSCRIPT"), let fallback = commands[index].evalFallback {
                return try roundTrip([fallback], on: liveContext(), timeout: timeout) { _, reply throws(RedisError) in
                    try decode(reply)
                }[0]
            }
            return try decode(reply)
        }
    }

    /// The open hiredis context, if any, for extensions that read without sending.
    var openContext: UnsafeMutablePointer<redisContext>? { context }

    /// Releases every reply read so far: for extensions that read without sending, once they have copied a
    /// reply out. The replies' memory is the connection's (see the type's documentation), never
    /// `freeReplyObject`'s.
    func releaseReplies() {
        if roundTripDepth == 0 { gs_reply_arena_reset(arena) }
    }

    /// Closes the connection; the next command opens a new one.
    public func close() {
        if let context { redisFree(context) }
        context = nil
    }

    // MARK: - Round trips

    /// Writes the commands, reads one reply each, then decodes them in order with their index; the replies
    /// are freed when it returns. On a connection failure the context is freed (see ``fail``).
    private func roundTrip<Decoded>(
        _ commands: [RedisCommand], on context: UnsafeMutablePointer<redisContext>, timeout: Duration?,
        decode: (Int, RedisReplyView) throws(RedisError) -> Decoded
    ) throws(RedisError) -> [Decoded] {
        roundTripDepth += 1
        defer {
            roundTripDepth -= 1
            if roundTripDepth == 0 { gs_reply_arena_reset(arena) }
        }
        try applyTimeout(timeout, on: context)
        // The whole pipeline is encoded once, in Swift, and handed to hiredis as one formatted buffer.
        let encoded = RedisCommand.encode(commands)
        let status = encoded.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { redisAppendFormattedCommand(context, $0.baseAddress, $0.count) }
        }
        guard status == REDIS_OK else { throw fail(context, during: commands.first) }
        var raw: [UnsafeMutableRawPointer] = []
        raw.reserveCapacity(commands.count)
        for command in commands {
            var reply: UnsafeMutableRawPointer?
            guard redisGetReply(context, &reply) == REDIS_OK, let reply else {
                throw fail(context, during: command)
            }
            raw.append(reply)
        }
        lastReply = .now
        var decoded: [Decoded] = []
        decoded.reserveCapacity(commands.count)
        for (index, reply) in raw.enumerated() {
            decoded.append(try decode(index, RedisReplyView(reply.assumingMemoryBound(to: redisReply.self))))
        }
        return decoded
    }

    /// Returns an open context, connecting (with backoff after failures) when there is none or the server
    /// has closed an idle one (for example because it restarted).
    private func liveContext() throws(RedisError) -> UnsafeMutablePointer<redisContext> {
        if let context {
            let idle = ContinuousClock.now - lastReply >= configuration.idlePeerCheck
            if idle && Self.peerHasClosed(context) { close() } else { return context }
        }
        if let nextAttempt {
            let wait = nextAttempt - .now
            if wait > .zero { Self.sleep(wait) }
        }
        do {
            let context = try connect()
            self.context = context
            reconnectDelay = .zero
            nextAttempt = nil
            return context
        } catch {
            reconnectDelay = reconnectDelay == .zero ? Self.initialBackoff : min(reconnectDelay * 2, Self.maximumBackoff)
            nextAttempt = .now + reconnectDelay
            throw error
        }
    }

    private func connect() throws(RedisError) -> UnsafeMutablePointer<redisContext> {
        guard let context = redisConnectWithTimeout(configuration.host, Int32(configuration.port), configuration.connectTimeout.timeval) else {
            throw RedisError(code: .connect, message: "cannot allocate a connection to \(configuration.address)")
        }
        if context.pointee.err != 0 {
            let reason = Self.errorText(context)
            redisFree(context)
            let refused = reason.lowercased().contains("refused")
            let what = refused ? "connection refused to \(configuration.address)" : "cannot connect to \(configuration.address): \(reason)"
            throw RedisError(code: .connect, message: what)
        }
        currentTimeout = .zero
        lastReply = .now
        gs_reply_arena_attach(arena, context)
        try handshake(context)
        return context
    }

    /// Authenticates and selects the database. Frees the context when it throws.
    private func handshake(_ context: UnsafeMutablePointer<redisContext>) throws(RedisError) {
        var commands: [RedisCommand] = []
        if let password = configuration.password {
            if let username = configuration.username {
                commands.append(RedisCommand("AUTH", username, password))
            } else {
                commands.append(RedisCommand("AUTH", password))
            }
        }
        if configuration.database != 0 {
            commands.append(RedisCommand("SELECT", configuration.database))
        }
        guard !commands.isEmpty else { return }
        let errors = try roundTrip(commands, on: context, timeout: nil) { _, reply throws(RedisError) in reply.errorMessage }
        for (command, error) in zip(commands, errors) {
            if let message = error {
                redisFree(context)
                throw RedisError(code: .connect, message: "\(command.name) at \(configuration.address) failed: \(message)")
            }
        }
    }

    /// Sets the socket's timeout for a round trip, when it changes: `timeout` when given; else the command
    /// timeout, or the longer timeout the socket already has (see the type's documentation).
    private func applyTimeout(_ timeout: Duration?, on context: UnsafeMutablePointer<redisContext>) throws(RedisError) {
        let timeout = timeout ?? max(configuration.commandTimeout, currentTimeout)
        guard timeout != currentTimeout else { return }
        guard redisSetTimeout(context, timeout.timeval) == REDIS_OK else {
            throw fail(context, during: nil)
        }
        currentTimeout = timeout
    }

    /// Turns the context's error into a ``RedisError`` and discards the context.
    func fail(_ context: UnsafeMutablePointer<redisContext>, during command: RedisCommand?) -> RedisError {
        let code = context.pointee.err
        let savedErrno = errno
        let reason = Self.errorText(context)
        let what = command.map { " during \($0.name)" } ?? ""
        if self.context == context { self.context = nil }
        redisFree(context)
        let limit = currentTimeout
        currentTimeout = .zero
        if code == REDIS_ERR_IO && (savedErrno == EAGAIN || savedErrno == EWOULDBLOCK) {
            return RedisError(code: .timeout, message: "timeout after \(limit.milliseconds) ms waiting for \(configuration.address)\(what)")
        }
        if code == REDIS_ERR_EOF {
            return RedisError(code: .closed, message: "\(configuration.address) closed the connection\(what)")
        }
        if code == REDIS_ERR_PROTOCOL {
            return RedisError(code: .protocolError, message: "protocol error from \(configuration.address)\(what): \(reason)")
        }
        return RedisError(code: .io, message: "I/O error with \(configuration.address)\(what): \(reason)")
    }

    private static func errorText(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { buffer in
            let bytes = buffer.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// Whether the server has closed an idle connection: its socket reads as end-of-file (or has bytes nobody
    /// asked for). Costs one `poll` with a zero timeout, so it is asked only after ``RedisConfiguration/idlePeerCheck``.
    private static func peerHasClosed(_ context: UnsafeMutablePointer<redisContext>) -> Bool {
        var descriptor = pollfd(fd: context.pointee.fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, 0)
        return ready != 0
    }

    private static func sleep(_ duration: Duration) {
        var request = duration.timespec
        var remaining = Glibc.timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}

extension Duration {
    var timeval: timeval {
        let (seconds, attoseconds) = components
        return Glibc.timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
    }

    var timespec: timespec {
        let (seconds, attoseconds) = components
        return Glibc.timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
    }

    /// Whole milliseconds.
    public var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
