// swift-tools-version: 6.1
//
// A BLAS-accelerated convolutional denoising autoencoder for the CPU.
// See Docs/ and Sources/DAEKit/DAEKit.docc for the guides.
import PackageDescription

// MARK: - Settings shared by every Swift target

/// Language settings only: `any` must be spelled out for existentials.
/// No optimisation or safety flags are set here; hot loops opt out of checks
/// locally (`&+`, unsafe buffer pointers) where they need to.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "DenoisingAutoencoder",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "DAEKit", targets: ["DAEKit"]),
        .library(name: "DAELayers", targets: ["DAELayers"]),
        .executable(name: "dae", targets: ["dae"]),
        .executable(name: "dae-bench", targets: ["dae-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // MARK: - C: system libraries, and the AVX2 kernels


        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // SHA-256 for `dae fetch` on Linux (CryptoKit on Apple platforms):
        // the system's OpenSSL rather than a package, so that no embedder of
        // DAEKit resolves or builds a cryptography package.
        .systemLibrary(
            name: "COpenSSLCrypto",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        .systemLibrary(
            name: "CPNG",
            pkgConfig: "libpng",
            providers: [.apt(["libpng-dev"])]
        ),

        // The direct convolution loops compiled for AVX2 + FMA, function by
        // function (`__attribute__((target))`: no compiler flag), chosen at
        // run time by DAELayers on CPUs that have both.
        .target(name: "CDirectKernels"),

        // Row-by-row PNG (libpng) and JPEG (libjpeg-turbo) decoding and PNG
        // encoding: the C libraries' setjmp/longjmp error handling stays in C.
        .target(
            name: "CImageCodecs",
            linkerSettings: [.linkedLibrary("png16"), .linkedLibrary("jpeg")]
        ),

        // MARK: - Library

        .target(
            name: "DAELayers",
            dependencies: ["COpenBLAS", "CDirectKernels"],
            swiftSettings: swiftSettings
        ),
        // Files and formats: atomic writes, locks, regular-file checks,
        // safetensors and the JSON policy. Not re-exported by DAEKit.
        .target(
            name: "DAEFiles",
            dependencies: ["DAELayers"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "DAEKit",
            dependencies: ["DAELayers", "DAEFiles", "DAEImageIO", "CZlib"],
            // The built-in models (PretrainedModel): weights trained by scripts/train-builtin-model.
            resources: [.copy("Models")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "DAEImageIO",
            dependencies: ["DAELayers", "DAEFiles", "CPNG", "CImageCodecs"],
            swiftSettings: swiftSettings
        ),

        // MARK: - Command-line tool

        .executableTarget(
            name: "dae",
            dependencies: [
                "DAEKit", "DAEImageIO", "DAEFiles",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .target(name: "COpenSSLCrypto", condition: .when(platforms: [.linux])),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: - Benchmarks

        .target(
            name: "DAEBenchmarkKit",
            dependencies: ["DAEKit", "DAEFiles"],
            path: "Benchmarks/DAEBenchmarkKit",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "dae-bench",
            dependencies: [
                "DAEBenchmarkKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Benchmarks/dae-bench",
            swiftSettings: swiftSettings
        ),

        // MARK: - Tests

        .target(
            name: "DAETestSupport",
            dependencies: ["DAELayers"],
            path: "Tests/DAETestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DAELayersTests",
            dependencies: ["DAELayers", "DAEFiles", "DAETestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DAEImageIOTests",
            dependencies: ["DAEImageIO", "DAELayers", "DAEFiles"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DAECLITests",
            dependencies: ["DAEKit", "DAEImageIO", "DAEFiles"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DAEBenchmarkTests",
            dependencies: ["DAEBenchmarkKit", "DAEKit"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DAEKitTests",
            dependencies: ["DAEKit", "DAEImageIO", "DAEFiles", "DAETestSupport"],
            swiftSettings: swiftSettings
        ),
    ]
)
