import Foundation
import Testing

@Suite("docker-compose.yml describes the package's stack")
struct ComposeFileTests {
    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    private static func read(_ name: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(name), encoding: .utf8)
    }

    /// The names of `.executable(name: "…")` products in Package.swift.
    private static func executables() throws -> Set<String> {
        let manifest = try read("Package.swift")
        return Set(manifest.matches(of: /\.executable\(name: "([a-z]+)"/).map { String($0.output.1) })
    }

    /// Compose services with the program each runs (the first word of `command:` or `entrypoint:`).
    private static func services() throws -> [String: String] {
        var services: [String: String] = [:]
        var current: String?
        var inServices = false
        for line in try read("docker-compose.yml").split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "services:" { inServices = true; continue }
            if inServices, let match = line.wholeMatch(of: /\ \ ([a-z][a-z0-9_-]*):/) { current = String(match.output.1) }
            if inServices, !line.hasPrefix(" "), !line.isEmpty, line != "services:" { inServices = false }
            if inServices, let current, services[current] == nil, let command = line.firstMatch(of: /^    (?:command|entrypoint): \["([a-z-]+)"/) {
                services[current] = String(command.output.1)
            }
        }
        return services
    }

    @Test("every executable the package builds runs as a compose service of the same name")
    func everyExecutableIsAService() throws {
        let executables = try Self.executables()
        #expect(executables == ["gateway", "karaoke", "goals", "sessions", "escrow", "tracking", "goalctl"])
        let services = try Self.services()
        for executable in executables {
            #expect(services[executable] == executable, "service \(executable) runs \(executable)")
        }
        #expect(Set(services.keys).subtracting(executables) == ["redis"])
        #expect(services["redis"] == "sh", "redis starts through Config/redis-start.sh, which fills in the ACL passwords")
    }

    @Test("every service connects to Redis as its own ACL user, and Redis loads the shipped ACL file")
    func leastPrivilege() throws {
        let compose = try Self.read("docker-compose.yml")
        let start = try Self.read("Config/redis-start.sh")
        for user in ["gateway", "karaoke", "goals", "sessions", "escrow", "tracking", "operator"] {
            #expect(compose.contains("REDIS_URL: redis://\(user):${\(user.uppercased())_REDIS_PASSWORD:-\(user)-dev}@redis:6379/0"))
        }
        // Every placeholder of the ACL file has its password variable in Redis's environment and in the start script.
        let placeholders = try Self.read("Config/redis-acl.conf").matches(of: /#<([A-Z]+)_PASSWORD_SHA256>/).map { String($0.output.1) }
        #expect(placeholders.count == 9)
        let filled = start.firstMatch(of: /for name in ([A-Z ]+); do/).map { $0.output.1.split(separator: " ").map(String.init) } ?? []
        #expect(Set(filled) == Set(placeholders))
        for name in placeholders {
            #expect(compose.contains("      \(name)_REDIS_PASSWORD: ${\(name)_REDIS_PASSWORD:-\(name.lowercased())-dev}"))
        }
        #expect(compose.contains("./Config/redis-acl.conf:/etc/redis/redis-acl.conf:ro"))
        #expect(compose.contains("./Config/redis-start.sh:/etc/redis/start.sh:ro"))
        // Redis runs as its own user, and the rendered ACL (hashes only) stays off the data volume.
        #expect(compose.contains("    user: redis\n"))
        #expect(start.contains("acl=$(mktemp /tmp/") && !start.contains("/data"))
        #expect(start.contains("--aclfile \"$acl\""))
    }

    @Test("every long-running service has a health check; the services' own ask their /ready through --probe")
    func healthChecks() throws {
        let compose = try Self.read("docker-compose.yml")
        for service in ["gateway", "karaoke", "goals", "sessions", "escrow", "tracking"] {
            #expect(compose.contains(#"test: ["CMD", "\#(service)", "--probe"]"#), "\(service)")
        }
        #expect(compose.contains(#"test: ["CMD", "redis-cli", "ping"]"#))
        #expect(compose.components(separatedBy: "healthcheck:").count - 1 == 9, "redis, the gateway, five groups, Prometheus, Grafana")
    }

    @Test("receivers publish no host ports and have no container names, so they scale")
    func receiversScale() throws {
        let compose = try Self.read("docker-compose.yml")
        #expect(!compose.contains("container_name"))
        let receiverBlock = compose.components(separatedBy: "x-receiver:").last?.components(separatedBy: "services:").first ?? ""
        #expect(!receiverBlock.contains("ports:"))
    }
}
