#if canImport(Glibc)
import Glibc
#endif

/// Unique consumer names: `<group>-<host>-<pid>-<random>`.
enum ConsumerName {
    static func unique(group: String) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        let host = gethostname(&buffer, buffer.count) == 0
            ? String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            : "host"
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        return "\(group)-\(host)-\(getpid())-\(suffix)"
    }
}
