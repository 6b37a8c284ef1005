/// Lowercase hexadecimal text of bytes (digests, signatures, `\u00XX` escapes), and its reading back: the one
/// hex helper of the package.
public enum Hex {
    /// `0`–`9`, `a`–`f`: the digit for each value 0–15, as ASCII.
    @usableFromInline
    static let lowercaseDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// The lowercase hex digit of `value` (0–15), as ASCII.
    @inlinable
    public static func digit(_ value: UInt8) -> UInt8 {
        lowercaseDigits[Int(value)]
    }

    /// Appends the two lowercase digits of `byte` to `output`.
    @inlinable
    public static func append(_ byte: UInt8, to output: inout [UInt8]) {
        output.append(lowercaseDigits[Int(byte >> 4)])
        output.append(lowercaseDigits[Int(byte & 0x0F)])
    }

    /// The lowercase hex digits of `bytes`, two per byte.
    @inlinable
    public static func string(_ bytes: some Sequence<UInt8>) -> String {
        var text: [UInt8] = []
        text.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            append(byte, to: &text)
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The value of a hex digit in either case, or `nil` when `byte` is not one.
    @inlinable
    public static func value(of byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// The bytes that `text` spells in hex digits of either case, or `nil` when it is not an even number of them.
    public static func decode(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count.isMultiple(of: 2) else {
            return nil
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let high = value(of: digits[index]), let low = value(of: digits[index + 1]) else {
                return nil
            }
            bytes.append(high << 4 | low)
        }
        return bytes
    }
}
