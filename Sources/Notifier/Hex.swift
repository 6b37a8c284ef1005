/// Lowercase hexadecimal text of digests.
enum Hex {
    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// The lowercase hex digits of `bytes`, two per byte.
    static func string(_ bytes: some Sequence<UInt8>) -> String {
        var text: [UInt8] = []
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
