import Foundation

/// The Keras reference fixtures committed in `Tests/Fixtures`, written by
/// `Tests/Fixtures/make_keras_reference.py` (TensorFlow + Keras), found from
/// this source file's path so that tests work from any working directory.
///
/// The list is fixed: a fixture that is missing makes its parity test fail,
/// it is never skipped. A larger reference file may also be found in a
/// workspace's `../shared/refvectors`; it is checked too when present.
public enum ReferenceVectors {
    /// The package's root directory (the one holding `Package.swift`).
    public static var packageRoot: URL {
        // …/<package>/Tests/DAETestSupport/ReferenceVectors.swift
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// `Tests/Fixtures`: the committed fixtures and their generator.
    public static var directory: URL {
        packageRoot.appendingPathComponent("Tests/Fixtures", isDirectory: true)
    }

    /// The names of the committed fixtures (the generator's `CONFIGURATIONS`).
    public static let fixtureNames = ["small-gray", "rgb-kernel5", "three-layers"]

    /// Every committed fixture, whether or not it exists on disk.
    public static var fixtures: [URL] {
        fixtureNames.map { directory.appendingPathComponent("keras-ref-\($0).safetensors") }
    }

    /// The tutorial-shaped fixture used by the public-API tests: 16×16×1, filters [8, 16], latent 8, batch 2.
    public static var smallGray: URL { fixtures[0] }

    /// The workspace's larger reference files (`../shared/refvectors/keras-ref-*.safetensors`), if any.
    public static var workspaceFiles: [URL] {
        let shared = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/refvectors", isDirectory: true)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: shared.path)) ?? []
        return names.filter { $0.hasPrefix("keras-ref-") && $0.hasSuffix(".safetensors") }.sorted()
            .map { shared.appendingPathComponent($0) }
    }

    /// True when `url` names an existing file.
    public static func exists(_ url: URL) -> Bool { FileManager.default.fileExists(atPath: url.path) }
}
