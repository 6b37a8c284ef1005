/// What went wrong talking to Redis, with text that says what happened.
public struct RedisError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure, for code that decides whether to retry.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Kind: Hashable, Sendable { case invalidURL, connect, io, timeout, closed, server, protocolError, configuration, crossSlot, cluster, stopped }
        private let kind: Kind
        private init(_ kind: Kind) { self.kind = kind }

        /// `REDIS_URL` could not be parsed.
        public static let invalidURL = Code(.invalidURL)
        /// The connection could not be made (refused, unknown host, connect timeout).
        public static let connect = Code(.connect)
        /// Reading or writing the socket failed; the command's outcome is unknown.
        public static let io = Code(.io)
        /// No reply arrived within the command timeout; the command's outcome is unknown.
        public static let timeout = Code(.timeout)
        /// The server closed the connection.
        public static let closed = Code(.closed)
        /// The server answered with an error reply.
        public static let server = Code(.server)
        /// The reply could not be parsed.
        public static let protocolError = Code(.protocolError)
        /// A configuration cannot work, such as a database other than 0 for a cluster.
        public static let configuration = Code(.configuration)
        /// The keys of a multi-key command hash to different cluster slots; the command was not sent.
        public static let crossSlot = Code(.crossSlot)
        /// The cluster could not serve the command: too many redirects, no slot map, or a command the
        /// cluster client cannot route.
        public static let cluster = Code(.cluster)
        /// What would have sent the command has stopped (its service shut down); the command was not sent.
        public static let stopped = Code(.stopped)

        public var description: String {
            switch kind {
            case .invalidURL: "invalidURL"
            case .connect: "connect"
            case .io: "io"
            case .timeout: "timeout"
            case .closed: "closed"
            case .server: "server"
            case .protocolError: "protocol"
            case .configuration: "configuration"
            case .crossSlot: "crossSlot"
            case .cluster: "cluster"
            case .stopped: "stopped"
            }
        }
    }

    /// The kind of failure.
    public let code: Code
    /// The full text: for server errors the server's own error text.
    public let message: String

    /// Creates an error of the given kind.
    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    /// Whether the connection is unusable after this error (everything but a server error reply).
    public var isConnectionFailure: Bool {
        code == .connect || code == .io || code == .timeout || code == .closed || code == .protocolError
    }

    public var description: String { message }
}
