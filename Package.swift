// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "snapmask",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "snapmask", targets: ["SnapmaskCLI"]),
        .library(name: "Snapmask", targets: ["Snapmask"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // System libraries: one module map over one shim header each, found through pkg-config.
        .systemLibrary(
            name: "CLibPQ", path: "Sources/CLibPQ", pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]),
        .systemLibrary(
            name: "CMySQL", path: "Sources/CMySQL", pkgConfig: "mysqlclient",
            providers: [.apt(["default-libmysqlclient-dev"])]),
        .systemLibrary(
            name: "CMongoC", path: "Sources/CMongoC", pkgConfig: "libmongoc-1.0",
            providers: [.apt(["libmongoc-dev", "libbson-dev"])]),
        .systemLibrary(
            name: "CLibCrypto", path: "Sources/CLibCrypto", pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]),
        .systemLibrary(
            name: "CZstd", path: "Sources/CZstd", pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"])]),

        // HMAC-SHA256 with prepared states, the pseudo-random function of every transformer: one
        // concern, one C library (libcrypto, whose plain SHA-256 contexts copy without allocating).
        .target(name: "SnapmaskKeyedHash", dependencies: ["CLibCrypto"]),

        // The engine-neutral core: configuration, rules, transformers, pipeline. No C library.
        .target(
            name: "Snapmask",
            dependencies: [
                "SnapmaskKeyedHash",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        // One driver per engine, each knowing exactly one C library.
        .target(name: "SnapmaskPostgres", dependencies: ["Snapmask", "CLibPQ"]),
        .target(name: "SnapmaskMySQL", dependencies: ["Snapmask", "CMySQL"]),
        .target(name: "SnapmaskDocumentDB", dependencies: ["Snapmask", "CMongoC"]),

        // AWS without an SDK: SigV4 (headers and presigned), the credential chain (environment,
        // IRSA web identity, EKS Pod Identity, shared files, IMDSv2) with refresh, STS, RDS IAM
        // auth tokens, and the HTTP and query-protocol layer the service clients share.
        .target(
            name: "SnapmaskAWS",
            dependencies: [
                "Snapmask",
                .product(name: "Crypto", package: "swift-crypto"),
            ]),

        // Sanitized snapshots: parts compressed with libzstd and sealed with AES-GCM, in a local
        // folder or an S3-compatible bucket.
        .target(
            name: "SnapmaskStore",
            dependencies: [
                "Snapmask", "SnapmaskAWS", "CZstd",
                .product(name: "Crypto", package: "swift-crypto"),
                // PBKDF2 for archive passphrases.
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]),

        // The command line: argument parsing and wiring only. (Named apart from the core by more
        // than case, so the tree checks out on case-insensitive file systems; the binary is `snapmask`.)
        .executableTarget(
            name: "SnapmaskCLI",
            dependencies: [
                "Snapmask", "SnapmaskPostgres", "SnapmaskMySQL", "SnapmaskDocumentDB", "SnapmaskStore", "SnapmaskAWS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        .executableTarget(
            name: "TransformerBenchmark",
            dependencies: ["Snapmask"],
            path: "Benchmarks/TransformerBenchmark"),
        .executableTarget(
            name: "RowMaskingBenchmark",
            dependencies: ["Snapmask"],
            path: "Benchmarks/RowMaskingBenchmark"),
        .executableTarget(
            name: "DocumentMaskingBenchmark",
            dependencies: ["Snapmask", "SnapmaskDocumentDB"],
            path: "Benchmarks/DocumentMaskingBenchmark"),

        // What the tests share: where the test servers are (scripts/services prints their URLs),
        // scratch databases, job files, the failure and snapshot fixtures, command runners.
        .target(name: "SnapmaskTestSupport",
                dependencies: ["Snapmask", "SnapmaskPostgres", "SnapmaskMySQL", "SnapmaskDocumentDB", "SnapmaskStore", "SnapmaskAWS"],
                path: "Tests/SnapmaskTestSupport"),

        .testTarget(name: "SnapmaskTests",
                    dependencies: ["Snapmask", "SnapmaskKeyedHash", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "SnapmaskStoreTests", dependencies: ["SnapmaskStore", "SnapmaskPostgres", "SnapmaskTestSupport"]),
        .testTarget(name: "SnapmaskAWSTests", dependencies: ["SnapmaskAWS", "SnapmaskStore", "SnapmaskTestSupport"]),
        .testTarget(name: "SnapmaskCLITests", dependencies: ["SnapmaskCLI", "SnapmaskTestSupport"]),
        .testTarget(name: "SnapmaskPostgresTests", dependencies: ["SnapmaskPostgres", "SnapmaskStore", "SnapmaskTestSupport"]),
        .testTarget(name: "SnapmaskMySQLTests", dependencies: ["SnapmaskMySQL", "SnapmaskStore", "SnapmaskTestSupport"]),
        .testTarget(name: "SnapmaskDocumentDBTests", dependencies: ["SnapmaskDocumentDB", "SnapmaskStore", "SnapmaskTestSupport"]),
        // The failure scenarios every engine shares, run against each.
        .testTarget(name: "SnapmaskEngineTests",
                    dependencies: ["SnapmaskPostgres", "SnapmaskMySQL", "SnapmaskDocumentDB", "SnapmaskTestSupport"]),
    ]
)
