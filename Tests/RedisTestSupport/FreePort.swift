import Foundation

/// Finds TCP ports on 127.0.0.1 that nothing listens on.
public enum FreePort {
    /// Asks the kernel for an ephemeral port by binding port 0, then releases it for the caller.
    public static func find() throws -> Int {
        let (descriptor, port) = try bindEphemeral()
        close(descriptor)
        return port
    }

    /// Runs `body` with a port that refuses connections for as long as it runs: bound, so no parallel test
    /// can take it, but never listened on.
    public static func withRefusingPort<Result>(_ body: (Int) async throws -> Result) async throws -> Result {
        let (descriptor, port) = try bindEphemeral()
        defer { close(descriptor) }
        return try await body(port)
    }

    /// A socket bound to an ephemeral port of 127.0.0.1, and that port.
    private static func bindEphemeral() throws -> (Int32, Int) {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw TestServerError(message: "socket() failed: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            close(descriptor)
            throw TestServerError(message: "bind() failed: errno \(errno)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        return (descriptor, Int(UInt16(bigEndian: address.sin_port)))
    }
}
