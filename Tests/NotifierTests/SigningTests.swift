import Foundation
import Notifier
import Testing

/// Reference values computed with Python's `pusher` package 3.3.4 (pusher-http-python), app id `1234`, key
/// `app-key`, secret `s3cr3t-s3cr3t`, time 1732600000:
///
///     client = pusher.Pusher(app_id="1234", key="app-key", secret="s3cr3t-s3cr3t", cluster="eu")
///     with mock.patch("time.time", return_value=1732600000.0):
///         request = client._pusher_client.trigger.make_request(
///             "presence-enc-goal@g-1", "goal-ended", '{"goal_id":"g-1","progress":"360"}')
///
/// and, for the compact body the notifier sends, `pusher.signature.sign` over `pusher.http.make_query_string`.
@Suite("Signing: Pusher's auth_version 1.0, against pusher-http-python")
struct SigningTests {
    let signer = PusherSigner(appKey: "app-key", appSecret: "s3cr3t-s3cr3t")
    let timestamp: Int64 = 1_732_600_000

    /// The body Python's `json.dumps` writes (with spaces) and its whole signed query, from the library.
    static let pythonBody = #"{"name": "goal-ended", "channels": ["presence-enc-goal@g-1"], "data": "{\"goal_id\":\"g-1\",\"progress\":\"360\"}"}"#
    static let pythonQuery = "auth_key=app-key&auth_signature=f96bb3465553de8670bc7a9871faf35e49513202e826751e30e6cdb970eca666"
        + "&auth_timestamp=1732600000&auth_version=1.0&body_md5=48bd96bd5b187dc50b91435a38e4081e"

    /// The compact body the notifier sends for the same event, and Python's signature of it.
    static let compactBody = #"{"name":"goal-ended","channels":["presence-enc-goal@g-1"],"data":"{\"goal_id\":\"g-1\",\"progress\":\"360\"}"}"#
    static let compactMD5 = "50a0022d3b8476a60b33580748e010fd"
    static let compactSignature = "a63cf8364db4c5779df4642e9fcda555ab57fd0bb7740f5c71c2c95fa500dab3"

    func query(_ parameters: [(String, String)]) -> String {
        parameters.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    @Test("the signed query equals pusher-http-python's, byte for byte, for the body it sends")
    func pythonVector() {
        let parameters = signer.signedParameters(method: "POST", path: "/apps/1234/events", body: Array(Self.pythonBody.utf8), timestamp: timestamp)
        #expect(query(parameters) == Self.pythonQuery)
    }

    @Test("the notifier's body is the compact JSON of name, channels and data as a string, signed as Python signs it")
    func compactVector() {
        let event = PusherEvent(channel: "presence-enc-goal@g-1", name: "goal-ended", data: #"{"goal_id":"g-1","progress":"360"}"#)
        #expect(String(decoding: event.body, as: UTF8.self) == Self.compactBody)
        #expect(PusherSigner.md5(event.body) == Self.compactMD5)
        let parameters = signer.signedParameters(method: "POST", path: "/apps/1234/events", body: event.body, timestamp: timestamp)
        #expect(query(parameters) == "auth_key=app-key&auth_signature=\(Self.compactSignature)&auth_timestamp=1732600000&auth_version=1.0&body_md5=\(Self.compactMD5)")
        #expect(PusherSigner.stringToSign(method: "POST", path: "/apps/1234/events", parameters: parameters)
            == "POST\n/apps/1234/events\nauth_key=app-key&auth_timestamp=1732600000&auth_version=1.0&body_md5=\(Self.compactMD5)")
    }

    @Test("the test's own Pusher check accepts Python's request and refuses tampered ones")
    func checkerAgreesWithPython() {
        func problem(query: String = Self.pythonQuery, body: String = Self.pythonBody, secret: String = "s3cr3t-s3cr3t", now: Int64 = 1_732_600_000) -> String? {
            PusherAuthCheck.problem(
                method: "POST", path: "/apps/1234/events", rawQuery: query, body: Array(body.utf8),
                appKey: "app-key", appSecret: secret, now: now
            )
        }
        #expect(problem() == nil)
        #expect(problem(body: Self.compactBody) != nil, "another body fails body_md5")
        #expect(problem(secret: "wrong") != nil, "another secret fails the signature")
        #expect(problem(now: 1_732_600_000 + 601) != nil, "an old timestamp is refused")
        #expect(problem(query: Self.pythonQuery.replacingOccurrences(of: "auth_timestamp=1732600000", with: "auth_timestamp=1732600001")) != nil)
    }

    @Test("data with quotes, backslashes, control characters and non-ASCII survives as a JSON string")
    func escaping() throws {
        let data = "{\"text\":\"line\\nbreak \\\"quoted\\\" é ✓\"}\u{1}"
        let event = PusherEvent(channel: "presence-enc-goal@x", name: "goal-progress-updated", data: data)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(event.body)) as? [String: Any])
        #expect(object["data"] as? String == data)
        #expect(object["name"] as? String == "goal-progress-updated")
        #expect(object["channels"] as? [String] == ["presence-enc-goal@x"])
    }
}
