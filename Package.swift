// swift-tools-version:6.1
// The fair trade capacity-building system: three services and an admin client exchanging protobuf-c messages
// over ZeroMQ. The layout tells the architecture: Shared/ holds what every executable links, Services/ one
// executable each, Tests/ mirrors them.
import PackageDescription

/// Release builds optimise across our modules: the hot path crosses Schema → RPC → API generics, which otherwise
/// run unspecialised (metadata look-ups and witness calls on every call).
let optimize: [SwiftSetting] = [.unsafeFlags(["-cross-module-optimization"], .when(configuration: .release))]

let package = Package(
    name: "FairTrade",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "producer-service", targets: ["ProducerService"]),
        .executable(name: "assistance-service", targets: ["AssistanceService"]),
        .executable(name: "marketplace-info-service", targets: ["MarketplaceInfoService"]),
        .executable(name: "ftadmin", targets: ["FTAdmin"]),
        .executable(name: "rpc-bench", targets: ["RPCBench"]),
        .executable(name: "interop-server", targets: ["InteropServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/vapor/sqlite-nio", from: "1.13.2"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // C libraries, behind one wall.
        .systemLibrary(
            name: "CZeroMQ", path: "Shared/CZeroMQ", pkgConfig: "libzmq", providers: [.apt(["libzmq3-dev"])]),
        .systemLibrary(
            name: "CProtobufC", path: "Shared/CProtobufC", pkgConfig: "libprotobuf-c",
            providers: [.apt(["libprotobuf-c-dev"])]),
        // protoc-c's generated C for every .proto file (scripts/generate.sh).
        .target(name: "CSchema", dependencies: ["CProtobufC"], path: "Shared/CSchema", sources: ["generated"]),

        // Swift value types over the generated structs, the bounded codec and descriptor-driven JSON.
        .target(
            name: "Schema", dependencies: ["CSchema", "CProtobufC"], path: "Shared/Schema",
            exclude: ["proto"], swiftSettings: optimize),
        // The gRPC-style RPC runtime over ZeroMQ: the only module that touches libzmq.
        .target(
            name: "RPC",
            dependencies: [
                "Schema", "CZeroMQ",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "HeapModule", package: "swift-collections"),
            ],
            path: "Shared/RPC", swiftSettings: optimize),
        // Typed clients and handler protocols, generated per service.
        .target(name: "API", dependencies: ["RPC", "Schema"], path: "Shared/API", swiftSettings: optimize),
        // What every service process shares: configuration, logging, health, reflection, metrics, lifecycle.
        .target(
            name: "ServiceKit",
            dependencies: [
                "API", "Domain", "RPC", "Schema", "Storage",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                // The metrics endpoint: Prometheus's text format over swift-nio's HTTP/1 server.
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Shared/ServiceKit", swiftSettings: optimize),
        // Durable storage: embedded SQLite by default, PostgreSQL when instances share state. One SQL dialect layer
        // over two maintained drivers, migrations, transactions.
        .target(
            name: "Storage",
            dependencies: [
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            path: "Shared/Storage", swiftSettings: optimize),
        // What the services share about the field: country and currency codes, dates, field validation.
        .target(name: "Domain", dependencies: ["Schema"], path: "Shared/Domain", swiftSettings: optimize),
        // The TestService implementation: used by tests, the benchmark and the interop server.
        .target(
            name: "Interop", dependencies: ["API", "RPC", "Schema"], path: "Shared/Interop", swiftSettings: optimize),

        // The services and the admin client.
        .target(
            name: "ProducerCore", dependencies: ["API", "Domain", "RPC", "Schema", "ServiceKit", "Storage"],
            path: "Services/Producer/Core", swiftSettings: optimize),
        .executableTarget(
            name: "ProducerService", dependencies: ["ProducerCore", "ServiceKit", "Storage"],
            path: "Services/Producer/Main", swiftSettings: optimize),
        .target(
            name: "AssistanceCore", dependencies: ["API", "Domain", "RPC", "Schema", "ServiceKit", "Storage"],
            path: "Services/Assistance/Core", swiftSettings: optimize),
        .executableTarget(
            name: "AssistanceService", dependencies: ["AssistanceCore", "API", "RPC", "ServiceKit"],
            path: "Services/Assistance/Main", swiftSettings: optimize),
        .target(
            name: "MarketplaceCore", dependencies: ["API", "Domain", "RPC", "Schema", "ServiceKit", "Storage"],
            path: "Services/MarketplaceInfo/Core", swiftSettings: optimize),
        .executableTarget(
            name: "MarketplaceInfoService",
            dependencies: [
                "MarketplaceCore", "API", "RPC", "Schema", "ServiceKit",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Services/MarketplaceInfo/Main", swiftSettings: optimize),
        .executableTarget(
            name: "FTAdmin",
            dependencies: [
                "API", "Domain", "RPC", "Schema", "ServiceKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Services/FTAdmin"),

        // Tools: the RPC benchmark and a TestService server process for tests and benchmarks.
        .executableTarget(
            name: "RPCBench",
            dependencies: [
                "API", "RPC", "Schema", "Interop", "CZeroMQ", "CProtobufC", "CSchema", "ProducerCore",
                "MarketplaceCore", "AssistanceCore", "Domain", "Storage", "ServiceKit",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Benchmarks/RPCBench", swiftSettings: optimize),
        .executableTarget(
            name: "InteropServer", dependencies: ["Interop", "RPC", "ServiceKit"], path: "Tools/InteropServer",
            swiftSettings: optimize),

        .target(
            name: "TestSupport",
            dependencies: ["API", "RPC", "Schema", "Storage", .product(name: "Logging", package: "swift-log")],
            path: "Tests/TestSupport"),
        .testTarget(
            name: "SchemaTests", dependencies: ["Schema", "CProtobufC", "TestSupport"], path: "Tests/SchemaTests"),
        .testTarget(
            name: "ProducerTests",
            dependencies: ["ProducerCore", "API", "RPC", "Schema", "ServiceKit", "Storage", "Domain", "TestSupport"],
            path: "Tests/ProducerTests"),
        .testTarget(
            name: "MarketplaceTests",
            dependencies: [
                "MarketplaceCore", "API", "RPC", "Schema", "ServiceKit", "Storage", "Domain", "TestSupport",
            ],
            path: "Tests/MarketplaceTests"),
        .testTarget(
            name: "AssistanceTests",
            dependencies: ["AssistanceCore", "API", "RPC", "Schema", "ServiceKit", "Storage", "Domain", "TestSupport"],
            path: "Tests/AssistanceTests"),
        .testTarget(
            name: "RPCTests",
            dependencies: [
                "API", "RPC", "Schema", "Interop", "ServiceKit", "Storage", "CZeroMQ", "CProtobufC", "TestSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Tests/RPCTests"),
    ]
)
