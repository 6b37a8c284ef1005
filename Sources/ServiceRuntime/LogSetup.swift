import Foundation
import Logging
import SignalBus

/// Logging for every executable: one line per event on standard error, as text, logfmt or JSON.
public enum LogSetup {
    /// Bootstraps swift-log from `log.level` (`LOG_LEVEL`) and `log.format` (`LOG_FORMAT`) and returns the
    /// service's logger, labelled with its name.
    public static func bootstrap(service: String, settings: Settings) throws -> Logger {
        let levelName = try settings.choice("log.level", default: "info", from: Logger.Level.allCases.map(\.rawValue))
        let format = try settings.choice("log.format", default: "text", from: ["text", "logfmt", "json"])
        let level = Logger.Level(rawValue: levelName) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = LineLogHandler(label: label, format: LineLogHandler.Format(rawValue: format) ?? .text)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: service)
        logger.logLevel = level
        return logger
    }
}

/// Writes each log event as one line to standard error.
public struct LineLogHandler: LogHandler {
    /// The line format.
    public enum Format: String, Sendable {
        case text, logfmt, json
    }

    private let label: String
    private let format: Format
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]

    /// Creates a handler for `label`.
    public init(label: String, format: Format) {
        self.label = label
        self.format = format
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var all = metadata
        if let extra = event.metadata { all.merge(extra) { $1 } }
        let time = LogTimestamp.now()
        let fields = all.sorted { $0.key < $1.key }.map { ($0.key, "\($0.value)") }
        let line: String
        switch format {
        case .text:
            let rendered = fields.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
            line = "\(time) \(event.level.rawValue.uppercased()) \(label): \(event.message)\(rendered.isEmpty ? "" : " " + rendered)"
        case .logfmt:
            line = ([("time", time), ("level", event.level.rawValue), ("service", label), ("msg", "\(event.message)")] + fields)
                .map { "\($0.0)=\(Self.logfmtValue($0.1))" }.joined(separator: " ")
        case .json:
            line = JSONText.object(
                ([("time", time), ("level", event.level.rawValue), ("service", label), ("msg", "\(event.message)")] + fields)
                    .map { ($0.0, JSONText.quoted($0.1)) }
            )
        }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    private static func logfmtValue(_ value: String) -> String {
        value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" }) || value.isEmpty
            ? JSONText.quoted(value) : value
    }
}
