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
        #expect(services["redis"] == "sh", "redis starts through a shell that fills in the ACL passwords")
    }

    @Test("every service connects to Redis as its own ACL user, and Redis loads the shipped ACL file")
    func leastPrivilege() throws {
        let compose = try Self.read("docker-compose.yml")
        for user in ["gateway", "karaoke", "goals", "sessions", "escrow", "tracking", "operator"] {
            #expect(compose.contains("REDIS_URL: redis://\(user):${\(user.uppercased())_REDIS_PASSWORD:-\(user)-dev}@redis:6379/0"))
            #expect(compose.contains("s|#<\(user.uppercased())_PASSWORD_SHA256>|>$${\(user.uppercased())_REDIS_PASSWORD}|"))
        }
        #expect(compose.contains("./Config/redis-acl.conf:/etc/redis/redis-acl.conf:ro"))
        #expect(compose.contains("--aclfile /data/users.acl"))
    }

    @Test("receivers publish no host ports and have no container names, so they scale")
    func receiversScale() throws {
        let compose = try Self.read("docker-compose.yml")
        #expect(!compose.contains("container_name"))
        let receiverBlock = compose.components(separatedBy: "x-receiver:").last?.components(separatedBy: "services:").first ?? ""
        #expect(!receiverBlock.contains("ports:"))
    }
}
