/// The outcome of checking a webhook's `X-Pusher-Key` and `X-Pusher-Signature` headers.
public enum SignatureCheck: Sendable, Hashable, CustomStringConvertible {
    /// The key matches and the signature is the HMAC-SHA256 of the body.
    case ok
    /// `X-Pusher-Key` is absent or empty.
    case missingKey
    /// `X-Pusher-Key` is not the configured app key.
    case wrongKey
    /// `X-Pusher-Signature` is absent or empty.
    case missingSignature
    /// `X-Pusher-Signature` is not the HMAC-SHA256 of the body with the app secret.
    case badSignature

    /// Whether the webhook may be accepted.
    public var isOK: Bool {
        self == .ok
    }

    /// A short explanation, fit for a 401 answer.
    public var description: String {
        switch self {
        case .ok: "signature verified"
        case .missingKey: "the X-Pusher-Key header is missing"
        case .wrongKey: "X-Pusher-Key does not match the app key"
        case .missingSignature: "the X-Pusher-Signature header is missing"
        case .badSignature: "X-Pusher-Signature does not match the body"
        }
    }
}
