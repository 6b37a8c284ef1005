import Crypto
import Hex

/// Signs requests to Pusher's HTTP API the way Pusher's server libraries do (`auth_version` 1.0).
///
/// The query carries `auth_key`, `auth_timestamp` (Unix seconds), `auth_version=1.0` and, with a body,
/// `body_md5` (lowercase hex MD5 of the body). `auth_signature` is the lowercase hex HMAC-SHA256, keyed with
/// the app secret, of
///
///     <METHOD>\n<path>\n<every other query parameter as key=value, keys lowercased and sorted, joined by &>
///
/// with the values as sent, not percent-encoded.
public struct PusherSigner: Sendable {
    /// The app key, sent as `auth_key`.
    public let appKey: String
    private let secret: SymmetricKey

    /// Creates a signer for the app with this key and secret.
    public init(appKey: String, appSecret: String) {
        self.appKey = appKey
        secret = SymmetricKey(data: Array(appSecret.utf8))
    }

    /// The query parameters of a signed request, `auth_signature` included, sorted by name.
    /// - Parameters:
    ///   - method: the HTTP method, e.g. `POST`.
    ///   - path: the request path, e.g. `/apps/123/events`.
    ///   - body: the exact body bytes sent (`body_md5` is left out when empty, as the libraries do for `GET`).
    ///   - timestamp: Unix seconds; Pusher refuses a timestamp more than 600 s away from its clock.
    ///   - extra: more query parameters, signed with the rest.
    public func signedParameters(
        method: String, path: String, body: [UInt8], timestamp: Int64, extra: [(String, String)] = []
    ) -> [(String, String)] {
        var parameters = extra + [("auth_key", appKey), ("auth_timestamp", String(timestamp)), ("auth_version", "1.0")]
        if !body.isEmpty { parameters.append(("body_md5", Self.md5(body))) }
        let signature = signature(of: Self.stringToSign(method: method, path: path, parameters: parameters))
        return (parameters + [("auth_signature", signature)]).sorted { $0.0 < $1.0 }
    }

    /// `<METHOD>\n<path>\n<query>`: the query of every parameter but `auth_signature`, keys lowercased and
    /// sorted, `key=value` joined by `&`.
    public static func stringToSign(method: String, path: String, parameters: [(String, String)]) -> String {
        let query = parameters
            .map { ($0.0.lowercased(), $0.1) }
            .filter { $0.0 != "auth_signature" }
            .sorted { $0.0 < $1.0 }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
        return "\(method.uppercased())\n\(path)\n\(query)"
    }

    /// The lowercase hex HMAC-SHA256 of `text` with the app secret.
    public func signature(of text: String) -> String {
        Hex.string(HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: secret))
    }

    /// The lowercase hex MD5 of `body`.
    public static func md5(_ body: [UInt8]) -> String {
        Hex.string(Insecure.MD5.hash(data: body))
    }
}
