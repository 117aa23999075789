import Foundation

/// Where the shared Keras reference vectors live, found from this source
/// file's path so that tests work from any working directory.
public enum ReferenceVectors {
    /// The package's root directory (the one holding `Package.swift`).
    public static var packageRoot: URL {
        // …/<package>/Tests/DAETestSupport/ReferenceVectors.swift
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// The directory of reference files: `<package>/../shared/refvectors`.
    public static var directory: URL {
        packageRoot.deletingLastPathComponent().appendingPathComponent("shared/refvectors", isDirectory: true)
    }

    /// The Keras reference file of the tutorial model on Fashion-MNIST (seed 99).
    public static var kerasFashionSeed99: URL {
        directory.appendingPathComponent("keras-ref-fashion-seed99.safetensors")
    }

    /// Every `*.safetensors` file in ``directory`` (empty when there is none), sorted by name.
    public static var allFiles: [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".safetensors") }.sorted().map { directory.appendingPathComponent($0) }
    }

    /// True when `url` names an existing file.
    public static func exists(_ url: URL) -> Bool { FileManager.default.fileExists(atPath: url.path) }
}
