import DAEImageIO
import DAEKit
import Foundation

/// Small data the tests make themselves: an MNIST-layout directory of
/// synthetic 28×28 images (bright rectangles of random size, place and
/// brightness on black), and a model trained on it for one epoch.
enum Fixtures {
    /// Training and test image counts of the synthetic data set.
    static let trainCount = 512, testCount = 128

    /// An IDX directory with 512 training and 128 test images (plain files, no gzip), made once.
    static func dataDirectory() throws -> URL {
        try FixtureCache.shared.value("data") { directory in
            try writeDataset(into: directory, trainCount: trainCount, testCount: testCount)
            return directory
        }
    }

    /// A checkpoint of the tutorial model trained one epoch on ``dataDirectory()`` (in process), made once.
    static func modelURL() throws -> URL {
        let data = try IDXDataset(directory: dataDirectory())
        return try FixtureCache.shared.value("model") { directory in
            var model = try DenoisingAutoencoder(configuration: .init(), seed: 7)
            model.workers = 1
            try model.fit(data.train, options: TrainingOptions(epochs: 1, batchSize: 32, seed: 7))
            let url = directory.appendingPathComponent("model.safetensors")
            try model.save(to: url)
            return url
        }
    }

    /// Writes the four IDX files of a synthetic data set into `directory`.
    static func writeDataset(into directory: URL, trainCount: Int, testCount: Int, seed: UInt64 = 1) throws {
        var rng = SplitMix64(seed: seed)
        for (stem, count) in [("train", trainCount), ("t10k", testCount)] {
            var pixels: [UInt8] = [], labels: [UInt8] = []
            for _ in 0..<count {
                let (image, label) = rectangle(using: &rng)
                pixels += image
                labels.append(label)
            }
            try Data(idx(dimensions: [count, 28, 28], payload: pixels))
                .write(to: directory.appendingPathComponent("\(stem)-images-idx3-ubyte"))
            try Data(idx(dimensions: [count], payload: labels))
                .write(to: directory.appendingPathComponent("\(stem)-labels-idx1-ubyte"))
        }
    }

    /// One 28×28 image with a filled rectangle, and a label (its height class).
    static func rectangle(using rng: inout SplitMix64) -> ([UInt8], UInt8) {
        func next(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }
        let height = next(6...18), width = next(6...18)
        let top = next(2...(26 - height)), left = next(2...(26 - width))
        let value = UInt8(next(160...255))
        var image = [UInt8](repeating: 0, count: 28 * 28)
        for y in top..<(top + height) {
            for x in left..<(left + width) { image[y * 28 + x] = value }
        }
        return (image, UInt8(height % 10))
    }

    /// An unsigned-byte IDX file: magic `0x0000 08 rank`, big-endian dimensions, payload.
    static func idx(dimensions: [Int], payload: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = [0, 0, 0x08, UInt8(dimensions.count)]
        for dimension in dimensions {
            bytes += withUnsafeBytes(of: UInt32(dimension).bigEndian, Array.init)
        }
        return bytes + payload
    }

    /// A copy of ``dataDirectory()`` in `data` under `parent`, for tests that damage it.
    static func copyOfData(in parent: URL) throws -> URL {
        let directory = parent.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let source = try dataDirectory()
        for name in try FileManager.default.contentsOfDirectory(atPath: source.path) {
            try FileManager.default.copyItem(at: source.appendingPathComponent(name),
                                             to: directory.appendingPathComponent(name))
        }
        return directory
    }

    /// Writes a PNG of `width × height` with a gradient and a bright square, gray or RGB.
    static func writePNG(width: Int, height: Int, channels: Int, to url: URL) throws {
        var pixels: [UInt8] = []
        for y in 0..<height {
            for x in 0..<width {
                let inSquare = (width / 4..<width * 3 / 4).contains(x) && (height / 4..<height * 3 / 4).contains(y)
                let value = inSquare ? 230 : UInt8((x * 3 + y * 2) % 90)
                for c in 0..<channels { pixels.append(c == 0 ? value : value / UInt8(c + 1)) }
            }
        }
        try PNG.write(try Image(width: width, height: height, channels: channels, pixels: pixels), to: url)
    }
}

/// Fixtures made once per test process, whichever test asks first (tests run in parallel),
/// each in its own temporary directory; the directories are removed when the process exits.
final class FixtureCache: @unchecked Sendable {
    static let shared = FixtureCache()

    private let lock = NSLock()
    private var values: [String: URL] = [:]
    private var directories: [URL] = []

    /// The value under `key`, made by `make` in a new directory the first time.
    func value(_ key: String, make: (URL) throws -> URL) throws -> URL {
        lock.lock()
        defer { lock.unlock() }
        if let value = values[key] { return value }
        let directory = try Scratch.directory(key)
        if directories.isEmpty { atexit { FixtureCache.shared.removeDirectories() } }
        directories.append(directory)
        let value = try make(directory)
        values[key] = value
        return value
    }

    /// Removes every fixture directory (at exit, when no test uses them any more).
    private func removeDirectories() {
        lock.lock()
        defer { lock.unlock() }
        for directory in directories { try? FileManager.default.removeItem(at: directory) }
        directories = []
    }
}
