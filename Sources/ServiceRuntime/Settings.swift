import Configuration
import Foundation
import SystemPackage

/// The service's configuration: environment variables over the configuration file over defaults.
///
/// Every getter validates what it reads; a value of the wrong form stops start-up with an error naming the
/// key, the environment variable and the expected form.
public struct Settings: Sendable {
    private let reader: ConfigReader
    /// The configuration file that was read, if any.
    public let file: String?

    /// Reads `CONFIG_FILE` (default `Config/local.json` relative to the working directory, optional) and the
    /// environment.
    public static func load(environment: [String: String] = ProcessInfo.processInfo.environment) async throws -> Settings {
        var providers: [any ConfigProvider] = [EnvironmentVariablesProvider(environmentVariables: environment)]
        let explicit = environment["CONFIG_FILE"].flatMap { $0.isEmpty ? nil : $0 }
        let path = explicit ?? "Config/local.json"
        let exists = FileManager.default.fileExists(atPath: path)
        if explicit != nil && !exists {
            throw SettingsError(key: "CONFIG_FILE", message: "configuration file '\(path)' does not exist")
        }
        if exists {
            try checkKeys(inFile: path)
            do {
                providers.append(try await FileProvider<JSONSnapshot>(filePath: FilePath(path)))
            } catch {
                throw SettingsError(key: "CONFIG_FILE", message: "cannot read '\(path)': \(error)")
            }
        }
        return Settings(reader: ConfigReader(providers: providers), file: exists ? path : nil)
    }

    /// Every key a configuration file may hold; any other key is refused at start-up, as a misspelt key
    /// would otherwise be silently ignored.
    public static let knownKeys: Set<String> = [
        "redis.url", "redis.cluster",
        "http.host", "http.port",
        "pusher.app.id", "pusher.app.key", "pusher.app.secret", "pusher.api.url", "allow.unsigned.webhooks",
        "log.level", "log.format", "metrics.host", "metrics.port",
        "webhook.window.seconds", "webhook.body.limit", "webhook.dedup.seconds",
        "bus.batch.size", "bus.partitions", "bus.block.ms", "bus.claim.idle.ms", "bus.max.deliveries", "bus.stream.keep",
        "bus.backlog.limit", "bus.heartbeat.ms", "bus.shutdown.seconds", "trace.seconds", "trace.sample",
        "expiry.sweep.seconds", "pairs.retention.seconds",
        "pusher.cluster", "notifier.backoff.initial.ms", "notifier.backoff.max.ms", "notifier.batch.size",
        "notifier.block.ms", "notifier.claim.idle.ms", "notifier.max.attempts", "notifier.timeout.ms", "notifier.redis.url",
    ]

    /// Keys earlier versions read, with what replaced them: naming one, in a file or the environment, stops
    /// start-up with this explanation rather than being silently ignored.
    public static let retiredKeys: [String: String] = [
        "bus.stream.maxlen": "streams are no longer capped whoever has read them; bus.stream.keep (BUS_STREAM_KEEP) sets how many entries are kept beyond what every group acknowledged, and bus.backlog.limit (BUS_BACKLOG_LIMIT) the backlog past which the gateway answers 503",
        "bus.dedup.seconds": "exactly-once no longer keeps a key per delivered message (the acknowledging commit is the record); remove it",
        "redis.connections": "the gateway stores webhooks through one connection, concurrent webhooks together in one script call per partition; remove it",
    ]

    /// Refuses a configuration file that is not a JSON object or holds a key nobody reads.
    static func checkKeys(inFile path: String) throws {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw SettingsError(key: "CONFIG_FILE", message: "cannot read '\(path)': \(error.localizedDescription)")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw SettingsError(key: "CONFIG_FILE", message: "'\(path)' is not a JSON object")
        }
        for key in flattenedKeys(object).sorted() where !knownKeys.contains(key) {
            if let replacement = retiredKeys[key] {
                throw SettingsError(key: key, message: "in '\(path)' is no longer read: \(replacement)")
            }
            throw SettingsError(key: key, message: "unknown key in '\(path)'; known keys: \(knownKeys.sorted().joined(separator: ", "))")
        }
    }

    private static func flattenedKeys(_ object: [String: Any], prefix: String = "") -> [String] {
        object.flatMap { key, value -> [String] in
            let path = prefix.isEmpty ? key : "\(prefix).\(key)"
            if let nested = value as? [String: Any] { return flattenedKeys(nested, prefix: path) }
            return [path]
        }
    }

    /// Settings from explicit values only (tests).
    public init(values: [String: String]) {
        self.reader = ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: values))
        self.file = nil
    }

    private init(reader: ConfigReader, file: String?) {
        self.reader = reader
        self.file = file
    }

    /// A string setting.
    public func string(_ key: String, default defaultValue: String) -> String {
        reader.string(forKey: ConfigKey(key)) ?? defaultValue
    }

    /// An optional string setting; empty counts as absent.
    public func optionalString(_ key: String) -> String? {
        reader.string(forKey: ConfigKey(key), isSecret: key.contains("secret")).flatMap { $0.isEmpty ? nil : $0 }
    }

    /// An integer setting within `range`.
    public func int(_ key: String, default defaultValue: Int, in range: ClosedRange<Int> = 0...Int.max) throws(SettingsError) -> Int {
        guard let value = try optionalInt(key) else { return defaultValue }
        guard range.contains(value) else {
            throw SettingsError(key: key, message: "\(value) is out of range; expected an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// An optional integer setting.
    public func optionalInt(_ key: String) throws(SettingsError) -> Int? {
        if let value = reader.int(forKey: ConfigKey(key)) { return value }
        if let text = reader.string(forKey: ConfigKey(key)) {
            if text.isEmpty { return nil }
            throw SettingsError(key: key, message: "'\(text)' is not an integer")
        }
        return nil
    }

    /// A decimal setting within `range`.
    public func double(_ key: String, default defaultValue: Double, in range: ClosedRange<Double>) throws(SettingsError) -> Double {
        let value: Double
        if let number = reader.double(forKey: ConfigKey(key)) {
            value = number
        } else if let text = reader.string(forKey: ConfigKey(key)), !text.isEmpty {
            guard let number = Double(text) else { throw SettingsError(key: key, message: "'\(text)' is not a number") }
            value = number
        } else {
            return defaultValue
        }
        guard range.contains(value) else {
            throw SettingsError(key: key, message: "\(value) is out of range; expected a number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// Stops start-up when a retired key (``retiredKeys``) is set in the environment, saying what replaced it.
    public func refuseRetiredKeys() throws(SettingsError) {
        for key in Self.retiredKeys.keys.sorted() where optionalString(key) != nil {
            throw SettingsError(key: key, message: "is no longer read: \(Self.retiredKeys[key]!)")
        }
    }

    /// A boolean setting (`true`/`false`).
    public func bool(_ key: String, default defaultValue: Bool) throws(SettingsError) -> Bool {
        if let value = reader.bool(forKey: ConfigKey(key)) { return value }
        if let text = reader.string(forKey: ConfigKey(key)), !text.isEmpty {
            throw SettingsError(key: key, message: "'\(text)' is not a boolean; expected true or false")
        }
        return defaultValue
    }

    /// A string setting restricted to `choices`.
    public func choice(_ key: String, default defaultValue: String, from choices: [String]) throws(SettingsError) -> String {
        let value = string(key, default: defaultValue).lowercased()
        guard choices.contains(value) else {
            throw SettingsError(key: key, message: "'\(value)' is not one of \(choices.joined(separator: ", "))")
        }
        return value
    }
}

/// A configuration value that cannot be used.
public struct SettingsError: Error, CustomStringConvertible, Sendable {
    /// The dotted key (`http.port`).
    public let key: String
    /// What is wrong and what is expected.
    public let message: String

    /// Creates the error.
    public init(key: String, message: String) {
        self.key = key
        self.message = message
    }

    /// The environment variable for the key (`HTTP_PORT`).
    public var environmentName: String {
        key == "CONFIG_FILE" ? key : key.uppercased().replacingOccurrences(of: ".", with: "_")
    }

    public var description: String {
        key == "CONFIG_FILE" ? "configuration: \(message)" : "configuration: \(key) (\(environmentName)): \(message)"
    }
}
