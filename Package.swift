// swift-tools-version:6.2
import PackageDescription

/// The services allocate with jemalloc (Debian's libjemalloc-dev to build, libjemalloc2 to run): a message's
/// many small, short-lived allocations cost about a fifth less of its CPU than with glibc's malloc.
let serviceAllocator: [LinkerSetting] = [.linkedLibrary("jemalloc", .when(platforms: [.linux]))]

let package = Package(
    name: "goal-signals",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "gateway", targets: ["gateway"]),
        .executable(name: "karaoke", targets: ["karaoke"]),
        .executable(name: "goals", targets: ["goals"]),
        .executable(name: "sessions", targets: ["sessions"]),
        .executable(name: "escrow", targets: ["escrow"]),
        .executable(name: "tracking", targets: ["tracking"]),
        .executable(name: "goalctl", targets: ["goalctl"]),
        .library(name: "Redis", targets: ["Redis"]),
        .library(name: "SignalBus", targets: ["SignalBus"]),
        .library(name: "GoalDomain", targets: ["GoalDomain"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // MARK: C
        .systemLibrary(
            name: "CHiredis",
            pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        .target(name: "CReplyArena"),

        // MARK: Libraries
        .target(name: "Hex"),
        .target(
            name: "Redis",
            dependencies: [
                "CHiredis",
                "CReplyArena",
                "Hex",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "SignalBus",
            dependencies: [
                "Hex",
                "Redis",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Lua")]
        ),
        .target(
            name: "GoalDomain",
            dependencies: [
                "Redis",
                "SignalBus",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "PusherWebhook",
            dependencies: [
                "Hex",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "ServiceRuntime",
            dependencies: [
                "Redis",
                "SignalBus",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "Notifier",
            dependencies: [
                "Hex",
                "Redis",
                "SignalBus",
                "ServiceRuntime",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "Gateway",
            dependencies: [
                "Notifier",
                "Redis",
                "SignalBus",
                "GoalDomain",
                "PusherWebhook",
                "ServiceRuntime",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),

        .target(
            name: "OperatorConsole",
            dependencies: ["Redis", "SignalBus"]
        ),
        .target(
            name: "ChainBench",
            dependencies: [
                "Redis",
                "GoalDomain",
                "PusherWebhook",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),

        // MARK: Executables
        .executableTarget(name: "gateway", dependencies: ["Gateway"], linkerSettings: serviceAllocator),
        .executableTarget(name: "karaoke", dependencies: ["GoalDomain", "ServiceRuntime"], linkerSettings: serviceAllocator),
        .executableTarget(name: "goals", dependencies: ["GoalDomain", "ServiceRuntime", "SignalBus"], linkerSettings: serviceAllocator),
        .executableTarget(name: "sessions", dependencies: ["GoalDomain", "ServiceRuntime"], linkerSettings: serviceAllocator),
        .executableTarget(name: "escrow", dependencies: ["GoalDomain", "ServiceRuntime"], linkerSettings: serviceAllocator),
        .executableTarget(name: "tracking", dependencies: ["GoalDomain", "ServiceRuntime"], linkerSettings: serviceAllocator),
        .executableTarget(
            name: "goalctl",
            dependencies: [
                "ChainBench",
                "OperatorConsole",
                "Redis",
                "SignalBus",
                "GoalDomain",
                "PusherWebhook",
                "ServiceRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            plugins: ["VersionStamp"]
        ),

        // MARK: Plugins
        // Under Sources/, so every build context that has the sources (the Docker build's) has it too.
        .plugin(name: "VersionStamp", capability: .buildTool(), path: "Sources/VersionStamp"),

        // MARK: Tests
        .target(
            name: "RedisTestSupport",
            dependencies: [
                "Redis",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/RedisTestSupport"
        ),
        .testTarget(name: "RedisTests", dependencies: ["Redis", "RedisTestSupport"]),
        .testTarget(name: "RedisClusterTests", dependencies: ["Redis", "RedisTestSupport"]),
        .testTarget(name: "SignalBusTests", dependencies: ["SignalBus", "Redis", "RedisTestSupport"]),
        .testTarget(name: "GoalDomainTests", dependencies: ["GoalDomain", "SignalBus", "Redis", "RedisTestSupport"]),
        .testTarget(name: "PusherWebhookTests", dependencies: ["PusherWebhook"]),
        .testTarget(name: "ChainBenchTests", dependencies: ["ChainBench", "GoalDomain", "Redis", "RedisTestSupport"]),
        .testTarget(name: "OperatorConsoleTests", dependencies: ["OperatorConsole", "Redis", "RedisTestSupport"]),
        .testTarget(name: "DocsTests", dependencies: ["GoalDomain", "SignalBus"]),
        .testTarget(name: "ACLTests", dependencies: ["Redis", "RedisTestSupport", "SignalBus", "GoalDomain"]),
        .testTarget(name: "ServiceRuntimeTests", dependencies: ["ServiceRuntime", "Gateway", "Redis", "SignalBus"]),
        .testTarget(
            name: "NotifierTests",
            dependencies: [
                "Notifier", "Redis", "RedisTestSupport", "ServiceRuntime", "SignalBus",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["Redis", "RedisTestSupport", "PusherWebhook", "GoalDomain", "SignalBus"]
        ),
    ]
)

// Package-wide Swift settings, set once: Swift 6 mode comes with the tools version.
for target in package.targets where target.type != .system && target.type != .plugin {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    target.swiftSettings = settings
}
