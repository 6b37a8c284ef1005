import Crypto
import Hex

/// Signs and verifies Pusher webhooks: `X-Pusher-Signature` is the lowercase hex HMAC-SHA256 of the raw body
/// with the app secret, and `X-Pusher-Key` is the app key.
///
/// Always verify the raw bytes as received: re-serialising the body changes them.
public struct WebhookSignature: Sendable {
    private let appKey: String
    private let secret: SymmetricKey

    /// Creates a signer for the app with this key and secret.
    public init(appKey: String, appSecret: String) {
        self.appKey = appKey
        secret = SymmetricKey(data: Array(appSecret.utf8))
    }

    /// The lowercase hex HMAC-SHA256 of `body` with the app secret: the value of `X-Pusher-Signature`.
    public func signature(for body: [UInt8]) -> String {
        var hex: [UInt8] = []
        for byte in HMAC<SHA256>.authenticationCode(for: body, using: secret) {
            Hex.append(byte, to: &hex)
        }
        return String(decoding: hex, as: UTF8.self)
    }

    /// Checks the headers of a webhook against its raw body.
    ///
    /// The signature is compared in constant time; upper- and lowercase hex digits are both accepted.
    /// - Parameters:
    ///   - body: the raw request body.
    ///   - key: the `X-Pusher-Key` header, `nil` when absent.
    ///   - signature: the `X-Pusher-Signature` header, `nil` when absent.
    public func verify(body: [UInt8], key: String?, signature: String?) -> SignatureCheck {
        guard let key, !key.isEmpty else {
            return .missingKey
        }
        guard key == appKey else {
            return .wrongKey
        }
        guard let signature, !signature.isEmpty else {
            return .missingSignature
        }
        guard let code = Hex.decode(signature),
            HMAC<SHA256>.isValidAuthenticationCode(code, authenticating: body, using: secret)
        else {
            return .badSignature
        }
        return .ok
    }
}
