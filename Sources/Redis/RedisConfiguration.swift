/// Where and how to connect to Redis.
public struct RedisConfiguration: Sendable, Hashable {
    /// Host name or IP address.
    public var host: String
    /// TCP port.
    public var port: Int
    /// ACL user name; `nil` authenticates as the default user.
    public var username: String?
    /// Password; `nil` skips `AUTH`.
    public var password: String?
    /// Database number selected after connecting.
    public var database: Int
    /// How long to wait for the TCP connection.
    public var connectTimeout: Duration
    /// How long to wait for a reply before the connection is declared broken.
    public var commandTimeout: Duration
    /// How long a connection may go without a reply before its next command first checks that the server has
    /// not closed it meanwhile (one `poll`); a busier connection skips the check (see ``RedisConnection``).
    /// Zero checks before every command, as a cluster client's connections do.
    public var idlePeerCheck: Duration

    /// Creates a configuration; defaults match a local redis-server.
    public init(
        host: String = "127.0.0.1",
        port: Int = 6379,
        username: String? = nil,
        password: String? = nil,
        database: Int = 0,
        connectTimeout: Duration = .seconds(2),
        commandTimeout: Duration = .seconds(5),
        idlePeerCheck: Duration = .seconds(1)
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.idlePeerCheck = idlePeerCheck
    }

    /// Parses `redis://[user:password@]host:port[/db]`.
    ///
    /// A URL that lists several hosts names a cluster (see ``isCluster(url:)``) and is refused here.
    ///
    /// - Throws: ``RedisError`` with code ``RedisError/Code/invalidURL`` naming what is wrong.
    public init(url: String) throws(RedisError) {
        let form = "redis://[user:password@]host:port[/db]"
        let configurations = try Self.parse(url: url, form: form)
        guard configurations.count == 1 else {
            throw Self.invalid(url, "it lists several hosts, which makes it a cluster URL (see RedisClusterClient)", form: form)
        }
        self = configurations[0]
    }

    /// Parses `redis://[user:password@]host:port[,host:port…][/db]` into one configuration per host, all with
    /// the same credentials and database.
    /// - Parameter form: the expected form, quoted in error messages.
    static func parse(url: String, form: String) throws(RedisError) -> [RedisConfiguration] {
        func invalid(_ why: String) -> RedisError { Self.invalid(url, why, form: form) }
        guard url.hasPrefix("redis://") else { throw invalid("the scheme must be redis://") }
        var rest = Substring(url.dropFirst("redis://".count))
        var template = RedisConfiguration()
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                let user = credentials[..<colon]
                template.username = user.isEmpty ? nil : Self.percentDecoded(user)
                template.password = Self.percentDecoded(credentials[credentials.index(after: colon)...])
            } else {
                template.password = Self.percentDecoded(credentials)
            }
        }
        var hosts = rest
        if let slash = rest.firstIndex(of: "/") {
            hosts = rest[..<slash]
            let db = rest[rest.index(after: slash)...]
            if !db.isEmpty {
                guard let number = Int(db), number >= 0 else { throw invalid("the database must be a number ≥ 0") }
                template.database = number
            }
        }
        var configurations: [RedisConfiguration] = []
        for var hostPort in hosts.split(separator: ",", omittingEmptySubsequences: false) {
            var configuration = template
            if let colon = hostPort.lastIndex(of: ":") {
                let portText = hostPort[hostPort.index(after: colon)...]
                guard let number = Int(portText), (1...65535).contains(number) else {
                    throw invalid("the port must be a number from 1 to 65535")
                }
                configuration.port = number
                hostPort = hostPort[..<colon]
            }
            guard !hostPort.isEmpty else { throw invalid("the host is missing") }
            configuration.host = String(hostPort)
            configurations.append(configuration)
        }
        return configurations
    }

    static func invalid(_ url: String, _ why: String, form: String) -> RedisError {
        RedisError(code: .invalidURL, message: "invalid REDIS_URL '\(url)': \(why); expected \(form)")
    }

    /// `host:port`, as used in error messages and logs (never the password).
    public var address: String { "\(host):\(port)" }

    private static func percentDecoded(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next(),
               let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) {
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
