import PusherWebhook
import Testing

@Suite struct WebhookSignatureTests {
    static let body = Array(
        #"{"time_ms":1732600000000,"events":[{"name":"channel_vacated","channel":"presence-enc-goal@g1","user_id":"u1"}]}"#
            .utf8
    )
    /// Computed independently: `hmac.new(b"7ad3773142a6692b25b8", body, hashlib.sha256).hexdigest()` in Python.
    static let expected = "24e78c0d4bd96773e49a941e5d7528bd9babce703649cd71a1cd933ab7ec8820"

    let signer = WebhookSignature(appKey: "278d425bdf160c739803", appSecret: "7ad3773142a6692b25b8")

    @Test func signsLikePythonsHMAC() {
        #expect(signer.signature(for: Self.body) == Self.expected)
        #expect(
            WebhookSignature(appKey: "k", appSecret: "secret").signature(for: [])
                == "f9e66e179b6747ae54108f82f8ade8b3c25d76fd30afde6c395822c530196169"
        )
    }

    @Test func acceptsTheRightKeyAndSignature() {
        let check = signer.verify(body: Self.body, key: "278d425bdf160c739803", signature: Self.expected)
        #expect(check == .ok)
        #expect(check.isOK)
        #expect(check.description == "signature verified")
    }

    @Test func acceptsUppercaseHex() {
        #expect(
            signer.verify(body: Self.body, key: "278d425bdf160c739803", signature: Self.expected.uppercased()) == .ok)
    }

    @Test(
        arguments: [
            (nil, Self.expected, SignatureCheck.missingKey, "the X-Pusher-Key header is missing"),
            ("", Self.expected, .missingKey, "the X-Pusher-Key header is missing"),
            ("278d425bdf160c739804", Self.expected, .wrongKey, "X-Pusher-Key does not match the app key"),
            ("278d425bdf160c739803", nil, .missingSignature, "the X-Pusher-Signature header is missing"),
            ("278d425bdf160c739803", "", .missingSignature, "the X-Pusher-Signature header is missing"),
        ] as [(String?, String?, SignatureCheck, String)])
    func refusesMissingOrWrongHeaders(key: String?, signature: String?, check: SignatureCheck, message: String) {
        let result = signer.verify(body: Self.body, key: key, signature: signature)
        #expect(result == check)
        #expect(!result.isOK)
        #expect(result.description == message)
    }

    @Test(arguments: [
        String(Self.expected.dropLast()) + "1",  // the last bit flipped: …20 → …21
        "a" + String(Self.expected.dropFirst()),  // 2 → a: one bit of the first byte
        String(Self.expected.dropLast(2)),
        Self.expected + "00",
        String(Self.expected.dropLast()),
        String(repeating: "z", count: 64),
        "sha256=" + Self.expected,
        String(repeating: "0", count: 64),
    ])
    func refusesABadSignature(signature: String) {
        let result = signer.verify(body: Self.body, key: "278d425bdf160c739803", signature: signature)
        #expect(result == .badSignature)
        #expect(result.description == "X-Pusher-Signature does not match the body")
    }

    @Test func refusesTheSignatureOfABodyOneByteOff() {
        var body = Self.body
        body[body.count - 3] = UInt8(ascii: "2")
        #expect(signer.verify(body: body, key: "278d425bdf160c739803", signature: Self.expected) == .badSignature)
    }

    @Test func refusesASignatureMadeWithAnotherSecret() {
        let other = WebhookSignature(appKey: "278d425bdf160c739803", appSecret: "7ad3773142a6692b25b9")
        #expect(other.verify(body: Self.body, key: "278d425bdf160c739803", signature: Self.expected) == .badSignature)
    }
}
