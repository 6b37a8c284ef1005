import Crypto
import Foundation

/// Pusher's server-side check of a signed HTTP API request, written here independently of the notifier:
/// `auth_signature` must be the hex HMAC-SHA256, keyed with the app secret, of
/// `METHOD\npath\n<all other query parameters, keys lowercased, sorted, key=value joined by &>`;
/// `body_md5` the hex MD5 of the body; `auth_version` 1.0; `auth_timestamp` within 600 s.
enum PusherAuthCheck {
    /// Why the request fails the check, or `nil` when it passes.
    static func problem(
        method: String, path: String, rawQuery: String, body: [UInt8], appKey: String, appSecret: String, now: Int64
    ) -> String? {
        let query = parseQuery(rawQuery)
        guard query["auth_key"] == appKey else { return "auth_key is not the app key" }
        guard query["auth_version"] == "1.0" else { return "auth_version is not 1.0" }
        guard let timestamp = query["auth_timestamp"].flatMap({ Int64($0) }), abs(timestamp - now) <= 600 else {
            return "auth_timestamp is missing or more than 600 s away"
        }
        guard query["body_md5"] == hex(Array(Insecure.MD5.hash(data: body))) else { return "body_md5 does not match the body" }
        guard let signature = query["auth_signature"] else { return "auth_signature is missing" }
        let signed = query
            .filter { $0.key != "auth_signature" }
            .map { (key: $0.key.lowercased(), value: $0.value) }
            .sorted { $0.key < $1.key }
            .map { "\($0.key)=\($0.value)" }
            .joined(separator: "&")
        let text = method + "\n" + path + "\n" + signed
        let expected = hex(Array(HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: SymmetricKey(data: Data(appSecret.utf8)))))
        return signature == expected ? nil : "auth_signature does not match"
    }

    /// `a=1&b=2` as a dictionary of percent-decoded values.
    static func parseQuery(_ raw: String) -> [String: String] {
        var result: [String: String] = [:]
        for pair in raw.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(parts[0]).removingPercentEncoding ?? String(parts[0])
            let value = parts.count > 1 ? (String(parts[1]).removingPercentEncoding ?? String(parts[1])) : ""
            result[key] = value
        }
        return result
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}
