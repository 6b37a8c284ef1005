extension WebhookParser {
    /// `timestamp` values above this are milliseconds, below seconds (1e11 s is in the year 5138).
    static let millisecondsThreshold: Int64 = 100_000_000_000

    /// The webhook's time, Unix ms: `time_ms`, else `timestamp`, else `receivedAtMs`; checked against the window.
    ///
    /// Both fields are type-checked when present, even though `time_ms` wins over `timestamp`.
    func resolveTime(in top: JSONObject, receivedAtMs: Int64) throws(WebhookError) -> Int64 {
        let timeMs = try Self.timeMs(top["time_ms"])
        let timestampMs = try Self.timestampMs(top["timestamp"])
        let field: String
        let resolved: Int64
        if let timeMs {
            (field, resolved) = ("time_ms", timeMs)
        } else if let timestampMs {
            (field, resolved) = ("timestamp", timestampMs)
        } else {
            return receivedAtMs
        }
        let difference = Int128(resolved) - Int128(receivedAtMs)
        if difference < -windowMs {
            throw WebhookError(
                field: field,
                message: "stale: \(-difference) ms before the time of receipt (window \(windowMs) ms)"
            )
        }
        if difference > windowMs {
            throw WebhookError(
                field: field,
                message: "in the future: \(difference) ms after the time of receipt (window \(windowMs) ms)"
            )
        }
        return resolved
    }

    /// `time_ms`: an integer of Unix milliseconds.
    private static func timeMs(_ value: JSONValue?) throws(WebhookError) -> Int64? {
        switch value {
        case nil, .null:
            return nil
        case .number(let number):
            guard let milliseconds = number.int64 else {
                throw WebhookError(field: "time_ms", message: "must be an integer of Unix milliseconds within 64 bits")
            }
            return milliseconds
        case let value?:
            throw WebhookError(
                field: "time_ms",
                message: "must be an integer of Unix milliseconds, not \(value.kindDescription)"
            )
        }
    }

    /// `timestamp`: Unix seconds (integer or fraction), Unix milliseconds above the threshold, or ISO-8601.
    /// An empty string counts as absent.
    private static func timestampMs(_ value: JSONValue?) throws(WebhookError) -> Int64? {
        switch value {
        case nil, .null, .string(""):
            return nil
        case .number(let number):
            if let integer = number.int64 {
                if integer > millisecondsThreshold {
                    return integer
                }
                let (milliseconds, overflow) = integer.multipliedReportingOverflow(by: 1000)
                if !overflow {
                    return milliseconds
                }
            } else {
                let scaled = number.double > Double(millisecondsThreshold) ? number.double : number.double * 1000
                if let milliseconds = Int64(exactly: scaled.rounded()) {
                    return milliseconds
                }
            }
            throw WebhookError(field: "timestamp", message: "is out of range")
        case .string(let text):
            guard let milliseconds = ISO8601DateTime.unixMilliseconds(text) else {
                throw WebhookError(
                    field: "timestamp",
                    message: "must be an ISO-8601 date-time with a zone, like 2026-11-26T10:00:00Z"
                )
            }
            return milliseconds
        case let value?:
            throw WebhookError(
                field: "timestamp",
                message: "must be Unix seconds or milliseconds, or an ISO-8601 string, not \(value.kindDescription)"
            )
        }
    }
}
