import Foundation
import Notifier
import Redis
import ServiceRuntime
import SignalBus
import Testing

@Suite("Configuration: credentials, URL, limits")
struct ConfigurationTests {
    let credentials = ["PUSHER_APP_ID": "1234", "PUSHER_APP_KEY": "app-key", "PUSHER_APP_SECRET": "very-secret"]

    @Test("disabled unless app id, key and secret are all set")
    func disabledWithoutCredentials() throws {
        #expect(try NotifierConfiguration(settings: Settings(values: [:])) == nil)
        for missing in credentials.keys {
            var values = credentials
            values[missing] = nil
            #expect(try NotifierConfiguration(settings: Settings(values: values)) == nil, "without \(missing)")
            values[missing] = ""
            #expect(try NotifierConfiguration(settings: Settings(values: values)) == nil, "with an empty \(missing)")
        }
        #expect(try PusherNotifier.services(settings: Settings(values: [:]), redis: .server(.init()), logger: testLogger).isEmpty)
        #expect(try PusherNotifier.services(settings: Settings(values: credentials), redis: .server(.init()), logger: testLogger).count == 1)
        // On a cluster the errors hash and the dead letters move into the outbox's slot.
        let onCluster = try #require(
            try PusherNotifier.services(settings: Settings(values: credentials), redis: .cluster(seeds: [.init()]), logger: testLogger).first as? PusherNotifier
        )
        #expect(onCluster.configuration.errorsKey == "errors:notifier:{outbox:pusher}")
        #expect(HashSlot(key: onCluster.configuration.errorsKey) == HashSlot(key: "outbox:pusher"))
        #expect(DeadLetters.key(for: "outbox:pusher", cluster: true) == "dead:{outbox:pusher}")
        #expect(HashSlot(key: DeadLetters.key(for: "outbox:pusher", cluster: true)) == HashSlot(key: "outbox:pusher"))
    }

    @Test("defaults: https://api-mt1.pusher.com, or the cluster's host, or the override")
    func baseURL() throws {
        let defaults = try #require(try NotifierConfiguration(settings: Settings(values: credentials)))
        #expect(defaults.baseURL.absoluteString == "https://api-mt1.pusher.com")
        #expect(defaults.eventsPath == "/apps/1234/events")
        #expect(defaults.requestTimeout == .seconds(5))
        #expect(defaults.maxAttempts == 8)
        #expect(defaults.initialBackoff == .milliseconds(100))
        #expect(defaults.maxBackoff == .seconds(10))
        #expect(defaults.stream == "outbox:pusher")
        #expect(defaults.group == "notifier")

        var values = credentials
        values["PUSHER_CLUSTER"] = "eu"
        #expect(try NotifierConfiguration(settings: Settings(values: values))?.baseURL.absoluteString == "https://api-eu.pusher.com")
        values["PUSHER_API_URL"] = "http://127.0.0.1:9999"
        #expect(try NotifierConfiguration(settings: Settings(values: values))?.baseURL.absoluteString == "http://127.0.0.1:9999")
    }

    @Test("limits are read, and unusable values fail naming the key")
    func limits() throws {
        var values = credentials
        values["NOTIFIER_TIMEOUT_MS"] = "1500"
        values["NOTIFIER_MAX_ATTEMPTS"] = "3"
        values["NOTIFIER_BACKOFF_INITIAL_MS"] = "50"
        values["NOTIFIER_BACKOFF_MAX_MS"] = "800"
        let configuration = try #require(try NotifierConfiguration(settings: Settings(values: values)))
        #expect(configuration.requestTimeout == .milliseconds(1500))
        #expect(configuration.maxAttempts == 3)
        #expect(configuration.backoff(afterAttempt: 1) == .milliseconds(50))

        let bad: [(String, String, String)] = [
            ("PUSHER_API_URL", "ftp://example.com", "pusher.api.url"),
            ("PUSHER_CLUSTER", "eu/../x", "pusher.cluster"),
            ("NOTIFIER_MAX_ATTEMPTS", "0", "notifier.max.attempts"),
            ("NOTIFIER_TIMEOUT_MS", "soon", "notifier.timeout.ms"),
            ("NOTIFIER_CLAIM_IDLE_MS", "1000", "notifier.claim.idle.ms"),
        ]
        for (variable, value, key) in bad {
            var values = credentials
            values[variable] = value
            #expect {
                try NotifierConfiguration(settings: Settings(values: values))
            } throws: { error in
                (error as? SettingsError)?.key == key
            }
        }
    }

    @Test("backoff doubles from the initial wait and stops at the maximum")
    func backoff() {
        var configuration = NotifierConfiguration(appID: "1", appKey: "k", appSecret: "s")
        #expect((1...9).map { configuration.backoff(afterAttempt: $0) } == [
            .milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .milliseconds(1600),
            .milliseconds(3200), .milliseconds(6400), .seconds(10), .seconds(10),
        ])
        #expect(configuration.backoff(afterAttempt: 1000) == .seconds(10))
        configuration.initialBackoff = .milliseconds(30)
        configuration.maxBackoff = .milliseconds(100)
        #expect((1...4).map { configuration.backoff(afterAttempt: $0) } == [.milliseconds(30), .milliseconds(60), .milliseconds(100), .milliseconds(100)])
    }

    @Test("the description never shows the secret")
    func secretHidden() {
        let configuration = NotifierConfiguration(appID: "1", appKey: "k", appSecret: "do-not-print-me")
        #expect(!"\(configuration)".contains("do-not-print-me"))
        #expect(!String(reflecting: configuration).contains("do-not-print-me"))
        var dumped = ""
        dump(configuration, to: &dumped)
        #expect(!dumped.contains("do-not-print-me"))
        let notifier = PusherNotifier(configuration: configuration, redis: .server(RedisConfiguration()), logger: testLogger)
        #expect(!"\(notifier)".contains("do-not-print-me"), "as ServiceLifecycle logs its services")
    }
}
