#if canImport(Glibc)
import Glibc
#endif

/// The current time as RFC 3339 UTC with milliseconds (`2026-11-26T03:04:05.123Z`), formatted by hand:
/// a log line must not pay for a date formatter.
enum LogTimestamp {
    static func now() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        var seconds = spec.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        func append(_ value: Int32, digits: Int) {
            var divisor: Int32 = 1
            for _ in 1..<digits { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                bytes.append(UInt8(48 + rest / divisor))
                rest %= divisor
                divisor /= 10
            }
        }
        append(parts.tm_year + 1900, digits: 4); bytes.append(UInt8(ascii: "-"))
        append(parts.tm_mon + 1, digits: 2); bytes.append(UInt8(ascii: "-"))
        append(parts.tm_mday, digits: 2); bytes.append(UInt8(ascii: "T"))
        append(parts.tm_hour, digits: 2); bytes.append(UInt8(ascii: ":"))
        append(parts.tm_min, digits: 2); bytes.append(UInt8(ascii: ":"))
        append(parts.tm_sec, digits: 2); bytes.append(UInt8(ascii: "."))
        append(Int32(spec.tv_nsec / 1_000_000), digits: 3); bytes.append(UInt8(ascii: "Z"))
        return String(decoding: bytes, as: UTF8.self)
    }
}
