// libFuzzer entry point for the webhook parser; compiled together with the PusherWebhook sources (see README.md).

/// Parses the input as JSON and as a webhook; anything but a crash, a sanitizer report or a broken
/// round trip (`parse(serialized(value)) == value`) is a pass.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let body = Array(UnsafeRawBufferPointer(start: start, count: count))
    if let value = try? JSONParser().parse(body) {
        let reparsed = try? JSONParser().parse(Array(value.serialized.utf8))
        precondition(reparsed == value, "serialized JSON does not parse back to the same value")
    }
    _ = try? WebhookParser().parse(body, receivedAtMs: 1_732_600_000_000)
    return 0
}
