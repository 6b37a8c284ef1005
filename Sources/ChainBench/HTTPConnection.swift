#if canImport(Glibc)
import Glibc
#endif

/// A blocking HTTP/1.1 client on one keep-alive TCP connection, used by one sender thread of the load
/// generator. It speaks only what the benchmark needs: `POST` with a body, a response with `Content-Length`.
final class HTTPConnection {
    private let host: String
    private let port: Int
    private var socket: Int32 = -1
    private var buffer: [UInt8] = []

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    deinit { close() }

    /// Sends one `POST` and returns the status and body; a connection the server closed while idle is opened
    /// again and the request sent once more (the gateway recognises a repeated webhook).
    func post(path: String, headers: [(String, String)], body: [UInt8]) throws(ChainBenchError) -> (status: Int, body: [UInt8]) {
        var request = Array("POST \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n".utf8)
        for (name, value) in headers { request += Array("\(name): \(value)\r\n".utf8) }
        request += Array("\r\n".utf8)
        request += body
        do {
            return try exchange(request)
        } catch {
            close()
            return try exchange(request)
        }
    }

    private func exchange(_ request: [UInt8]) throws(ChainBenchError) -> (status: Int, body: [UInt8]) {
        if socket < 0 { try connect() }
        try write(request)
        return try readResponse()
    }

    private func connect() throws(ChainBenchError) {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else {
            throw ChainBenchError("cannot resolve the gateway host \(host)")
        }
        defer { freeaddrinfo(list) }
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let address = candidate {
            let descriptor = Glibc.socket(address.pointee.ai_family, address.pointee.ai_socktype, address.pointee.ai_protocol)
            if descriptor >= 0 {
                if Glibc.connect(descriptor, address.pointee.ai_addr, address.pointee.ai_addrlen) == 0 {
                    var one: Int32 = 1
                    setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                    socket = descriptor
                    buffer.removeAll(keepingCapacity: true)
                    return
                }
                Glibc.close(descriptor)
            }
            candidate = address.pointee.ai_next
        }
        throw ChainBenchError("cannot connect to the gateway at \(host):\(port): \(String(cString: strerror(errno)))")
    }

    private func write(_ bytes: [UInt8]) throws(ChainBenchError) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { Glibc.send(socket, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if sent < 0 && errno == EINTR { continue }
            guard sent > 0 else { throw ChainBenchError("sending to the gateway failed: \(String(cString: strerror(errno)))") }
            offset += sent
        }
    }

    /// Reads one response: the head up to the blank line, then `Content-Length` bytes of body.
    private func readResponse() throws(ChainBenchError) -> (status: Int, body: [UInt8]) {
        var headEnd: Int?
        while headEnd == nil {
            headEnd = Self.endOfHead(in: buffer)
            if headEnd == nil { try fill() }
        }
        let head = String(decoding: buffer[..<headEnd!], as: UTF8.self)
        let lines = head.split(separator: "\r\n")
        let statusParts = lines.first?.split(separator: " ") ?? []
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else {
            throw ChainBenchError("the gateway sent a malformed status line: \(lines.first ?? "")")
        }
        var length: Int?
        for line in lines.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "content-length" {
                length = Int(parts[1].trimmingCharacters(in: " "))
            }
        }
        guard let length else { throw ChainBenchError("the gateway answered without Content-Length") }
        let bodyStart = headEnd! + 4
        while buffer.count < bodyStart + length { try fill() }
        let body = Array(buffer[bodyStart..<bodyStart + length])
        buffer.removeFirst(bodyStart + length)
        return (status, body)
    }

    private func fill() throws(ChainBenchError) {
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw ChainBenchError("the gateway closed the connection") }
            buffer += chunk[..<count]
            return
        }
    }

    private static func endOfHead(in bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4)
        where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            return index
        }
        return nil
    }

    private func close() {
        if socket >= 0 { Glibc.close(socket) }
        socket = -1
        buffer.removeAll(keepingCapacity: true)
    }
}

private extension Substring {
    func trimmingCharacters(in set: Character) -> Substring {
        var text = self
        while text.first == set { text = text.dropFirst() }
        while text.last == set { text = text.dropLast() }
        return text
    }
}
