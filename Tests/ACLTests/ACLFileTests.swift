import Foundation
import Redis
import RedisTestSupport
import Testing

/// The shape of `Config/redis-acl.conf` itself.
@Suite("Config/redis-acl.conf")
struct ACLFileTests {
    /// The file's lines, split into tokens.
    static func users() throws -> [(name: String, tokens: [String])] {
        try shippedACLFile().split(separator: "\n").map { line in
            let tokens = line.split(separator: " ").map(String.init)
            return (tokens.count > 1 ? tokens[1] : "", tokens)
        }
    }

    @Test("one line per user: default, admin, gateway, the five groups, operator")
    func usersListed() throws {
        let users = try Self.users()
        #expect(users.allSatisfy { $0.tokens.first == "user" }, "Redis 7.0 ACL files allow no comments")
        #expect(users.map(\.name) == ["default", "admin", "gateway", "notifier", "karaoke", "goals", "sessions", "escrow", "tracking", "operator"])
    }

    @Test("every user but default has a password placeholder and no password of its own")
    func placeholders() throws {
        for user in try Self.users() where user.name != "default" {
            #expect(user.tokens.contains("#<\(user.name.uppercased())_PASSWORD_SHA256>"), "\(user.name)")
            #expect(!user.tokens.contains { $0.hasPrefix(">") || $0 == "nopass" }, "\(user.name) must not ship a password")
        }
        let defaultUser = try #require(try Self.users().first)
        #expect(defaultUser.tokens == ["user", "default", "on", "nopass", "resetkeys", "resetchannels", "-@all", "+ping"])
    }

    @Test("receiver users start from nothing: -@all, resetkeys, resetchannels, and no broad rights")
    func noBroadRights() throws {
        for user in try Self.users() where !["admin"].contains(user.name) {
            for required in ["-@all", "resetkeys", "resetchannels"] {
                #expect(user.tokens.contains(required), "\(user.name) lacks \(required)")
            }
            for forbidden in ["~*", "&*", "+@all", "allkeys", "allchannels", "allcommands", "+@dangerous", "+@admin"] {
                #expect(!user.tokens.contains(forbidden), "\(user.name) has \(forbidden)")
            }
        }
    }

    @Test("redis-server refuses the file until the placeholders are filled in")
    func unfilledFileIsRefused() async throws {
        let path = try temporaryFile(try shippedACLFile())
        defer { try? FileManager.default.removeItem(atPath: path) }
        await #expect(throws: (any Error).self) {
            let server = try await RedisTestServer.start(extraArguments: ["--aclfile", path])
            await server.stop()
        }
    }

    @Test("the filled file loads with exactly these users")
    func filledFileLoads() async throws {
        try await withACLServer { _, admin in
            let users = (try await admin.execute("ACL", "USERS").array ?? []).compactMap(\.string).sorted()
            #expect(users == ["admin", "default", "escrow", "gateway", "goals", "karaoke", "notifier", "operator", "sessions", "tracking"])
            // Two selectors (consume, commit) for each receiver user and the notifier, a third (trim) for those with
            // sinks, and for goals, whose expiry sweep waits on every group's backlog, a fourth (measure).
            for (user, count) in [("notifier", 2), ("karaoke", 2), ("goals", 4), ("sessions", 3), ("escrow", 2), ("tracking", 3)] {
                let fields = try await admin.execute("ACL", "GETUSER", user).pairs
                #expect(fields["selectors"]?.array?.count == count, "\(user)")
            }
        }
    }
}
