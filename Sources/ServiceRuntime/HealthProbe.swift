import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// `<executable> --probe`: asks the running service's own `GET /ready` and exits 0 when it answers 200, 1
/// otherwise, with one line saying why. Container health checks use it, as the image has no HTTP client.
///
/// The probe reads the same configuration as the service, so it asks the address the service listens on
/// (the loopback address when that is a listen-all address).
public enum HealthProbe {
    /// The one argument a service executable accepts.
    public static let flag = "--probe"

    /// Whether the process was started as a probe. Any other argument is refused: the message goes to
    /// standard error and the process exits with status 2.
    /// - Parameters:
    ///   - name: the executable's name, for the message.
    ///   - arguments: the process's arguments, without the program name.
    public static func isRequested(name: String, arguments: [String] = Array(CommandLine.arguments.dropFirst())) -> Bool {
        switch arguments {
        case []:
            return false
        case [flag]:
            return true
        default:
            let shown = arguments.map { "'\($0)'" }.joined(separator: " ")
            FileHandle.standardError.write(Data(
                "\(name): unexpected arguments \(shown): \(name) takes none (configuration comes from CONFIG_FILE and the environment), or \(flag) to check a running \(name)\n".utf8
            ))
            exit(2)
        }
    }

    /// Asks `GET http://<host>:<port>/ready` and exits: 0 on 200, 1 on any other answer or none within 2 s.
    /// - Parameters:
    ///   - name: the executable's name, for the output line.
    ///   - host: the address the service listens on.
    ///   - port: the port it listens on.
    public static func run(name: String, host: String, port: Int) async -> Never {
        let url = "http://\(destination(listeningOn: host)):\(port)/ready"
        do {
            let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(2))
            let body = String(buffer: try await response.body.collect(upTo: 4096))
            print("\(name) \(url): \(response.status.code) \(body)")
            exit(response.status == .ok ? 0 : 1)
        } catch {
            print("\(name) \(url): no answer (\(error))")
            exit(1)
        }
    }

    /// Where to reach a service that listens on `host`: the loopback address for a listen-all host
    /// (`0.0.0.0`, `::`), which is no destination, else `host` itself (bracketed when it is IPv6).
    public static func destination(listeningOn host: String) -> String {
        switch host {
        case "0.0.0.0", "": "127.0.0.1"
        case "::", "[::]": "[::1]"
        default: host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        }
    }
}
