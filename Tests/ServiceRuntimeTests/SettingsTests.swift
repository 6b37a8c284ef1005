import Foundation
import Gateway
import Redis
import ServiceRuntime
import SignalBus
import Testing

@Suite("Configuration: environment over file over defaults, bad values named")
struct SettingsTests {
    private func file(_ json: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("settings-\(UUID().uuidString).json").path
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("the environment overrides the file, which overrides the defaults")
    func precedence() async throws {
        let path = try file(#"{"http": {"port": 9000, "host": "0.0.0.0"}, "bus": {"batch": {"size": 10}}}"#)
        let settings = try await Settings.load(environment: ["CONFIG_FILE": path, "HTTP_PORT": "9100"])
        #expect(try settings.int("http.port", default: 8080) == 9100)
        #expect(settings.string("http.host", default: "127.0.0.1") == "0.0.0.0")
        #expect(try settings.bus().batchSize == 10)
        #expect(try settings.bus().maxDeliveries == 5)
        #expect(try settings.redis() == .server(RedisConfiguration()))
    }

    @Test("several hosts in REDIS_URL, or REDIS_CLUSTER, make a cluster whose streams are partitioned")
    func cluster() async throws {
        let listed = try await Settings.load(environment: ["REDIS_URL": "redis://10.0.0.1:7000,10.0.0.2:7001"])
        #expect(try listed.bus(cluster: false).partitions == 0)
        let seeds = [RedisConfiguration(host: "10.0.0.1", port: 7000), RedisConfiguration(host: "10.0.0.2", port: 7001)]
        #expect(try listed.redis() == .cluster(seeds: seeds))
        #expect(try listed.bus(cluster: true).partitions == 3)

        let flagged = try await Settings.load(environment: ["REDIS_URL": "redis://10.0.0.1:7000", "REDIS_CLUSTER": "true", "BUS_PARTITIONS": "3"])
        #expect(try flagged.redis() == .cluster(seeds: [seeds[0]]))
        #expect(try flagged.bus(cluster: true).partitions == 3)
    }

    @Test("partitions asked for on one server, or a cluster URL naming a database, stop start-up with the key named")
    func clusterMistakes() async throws {
        let partitioned = try await Settings.load(environment: ["BUS_PARTITIONS": "4"])
        let error = #expect(throws: SettingsError.self) { _ = try partitioned.bus(cluster: false) }
        #expect(error?.key == "bus.partitions")
        #expect(error?.message.contains("only on a Redis Cluster") == true)

        let database = try await Settings.load(environment: ["REDIS_URL": "redis://10.0.0.1:7000,10.0.0.2:7001/2"])
        let urlError = #expect(throws: SettingsError.self) { _ = try database.redis() }
        #expect(urlError?.key == "redis.url")
        #expect(urlError?.message.contains("only database 0") == true)
    }

    @Test("a misspelt key in the file stops start-up, naming the key")
    func unknownKey() async throws {
        let path = try file(#"{"http": {"prot": 9000}}"#)
        let error = await #expect(throws: SettingsError.self) { try await Settings.load(environment: ["CONFIG_FILE": path]) }
        #expect(error?.key == "http.prot")
        #expect(error?.description.hasPrefix("configuration: http.prot (HTTP_PROT): unknown key in '\(path)'") == true)
    }

    @Test("a missing explicit file and a file that is not a JSON object are refused")
    func badFiles() async throws {
        let missing = await #expect(throws: SettingsError.self) { try await Settings.load(environment: ["CONFIG_FILE": "/nonexistent/x.json"]) }
        #expect(missing?.description == "configuration: configuration file '/nonexistent/x.json' does not exist")
        let path = try file("[1, 2]")
        let notObject = await #expect(throws: SettingsError.self) { try await Settings.load(environment: ["CONFIG_FILE": path]) }
        #expect(notObject?.description == "configuration: '\(path)' is not a JSON object")
    }

    @Test("values of the wrong form name the key, the variable and the expected form", arguments: [
        (["HTTP_PORT": "abc"], "configuration: http.port (HTTP_PORT): 'abc' is not an integer"),
        (["HTTP_PORT": "70000"], "configuration: http.port (HTTP_PORT): 70000 is out of range; expected an integer from 0 to 65535"),
        (["ALLOW_UNSIGNED_WEBHOOKS": "maybe"], "configuration: allow.unsigned.webhooks (ALLOW_UNSIGNED_WEBHOOKS): 'maybe' is not a boolean; expected true or false"),
        ([:], "configuration: pusher.app.secret (PUSHER_APP_SECRET): no Pusher app secret is configured; set PUSHER_APP_SECRET, or ALLOW_UNSIGNED_WEBHOOKS=true to accept unsigned webhooks"),
    ])
    func wrongForms(environment: [String: String], message: String) async throws {
        let settings = try await Settings.load(environment: environment.merging(["CONFIG_FILE": try file("{}")]) { $1 })
        #expect(throws: SettingsError.self) { try GatewaySettings(settings: settings) }
        do {
            _ = try GatewaySettings(settings: settings)
        } catch {
            #expect("\(error)" == message)
        }
    }

    @Test("a bad REDIS_URL and bad bus values are refused naming the key")
    func busAndRedis() async throws {
        let badURL = try await Settings.load(environment: ["CONFIG_FILE": try file("{}"), "REDIS_URL": "http://x"])
        #expect(throws: SettingsError.self) { try badURL.redis() }
        let badBus = try await Settings.load(environment: ["CONFIG_FILE": try file("{}"), "BUS_MAX_DELIVERIES": "0"])
        do {
            _ = try badBus.bus()
            Issue.record("bus.max.deliveries 0 was accepted")
        } catch {
            #expect("\(error)" == "configuration: bus.max.deliveries (BUS_MAX_DELIVERIES): 0 is out of range; expected an integer from 1 to 1000")
        }
    }

    @Test("the shipped configuration files hold only known keys")
    func shippedFiles() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for name in ["local.json", "docker.json"] {
            let settings = try await Settings.load(environment: ["CONFIG_FILE": root.appendingPathComponent("Config/\(name)").path])
            #expect(settings.file?.hasSuffix(name) == true)
            _ = try settings.bus()
            _ = try settings.redis()
            _ = try GatewaySettings(settings: settings)
        }
    }
}
