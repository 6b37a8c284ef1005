extension WebhookParser {
    /// Reads one element of `events`, checking the type of every field it knows.
    static func event(from value: JSONValue, field: String) throws(WebhookError) -> WebhookEvent {
        guard case .object(let object) = value else {
            throw WebhookError(field: field, message: "must be an object, not \(value.kindDescription)")
        }
        let fields = EventFields(object: object, path: field)
        return WebhookEvent(
            name: try fields.requiredString("name"),
            channel: try fields.requiredString("channel"),
            userID: try fields.optionalString("user_id"),
            event: try fields.optionalString("event"),
            data: fields.data("data"),
            socketID: try fields.optionalString("socket_id"),
            subscriptionCount: try fields.count("subscription_count")
        )
    }
}

/// Typed access to the members of one event object, with errors naming `path.key`.
private struct EventFields {
    let object: JSONObject
    let path: String

    func requiredString(_ key: String) throws(WebhookError) -> String {
        guard let value = object[key] else {
            throw error(key, "is required")
        }
        guard case .string(let string) = value else {
            throw error(key, "must be a string, not \(value.kindDescription)")
        }
        return string
    }

    func optionalString(_ key: String) throws(WebhookError) -> String? {
        switch object[key] {
        case nil, .null:
            return nil
        case .string(let string):
            return string
        case let value?:
            throw error(key, "must be a string, not \(value.kindDescription)")
        }
    }

    /// A string as it is; any other value as compact JSON.
    func data(_ key: String) -> String? {
        switch object[key] {
        case nil, .null:
            nil
        case .string(let string):
            string
        case let value?:
            value.serialized
        }
    }

    /// A non-negative integer, sent as a number or as a string of decimal digits.
    func count(_ key: String) throws(WebhookError) -> Int? {
        switch object[key] {
        case nil, .null:
            return nil
        case .number(let number):
            if let value = number.int64, value >= 0, let count = Int(exactly: value) {
                return count
            }
            throw error(key, "must be a non-negative integer")
        case .string(let string):
            if !string.isEmpty, string.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                let count = Int(string)
            {
                return count
            }
            throw error(key, "must be a non-negative integer or a string of its decimal digits")
        case let value?:
            throw error(key, "must be a number or a numeric string, not \(value.kindDescription)")
        }
    }

    private func error(_ key: String, _ message: String) -> WebhookError {
        WebhookError(field: "\(path).\(key)", message: message)
    }
}
