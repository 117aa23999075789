@testable import DAEKit
import DAETestSupport
import Foundation
import Testing

/// `TrainingOptions.winogradConvolutions`: `fit` trains the stride-1 3×3
/// convolutions as Winograd F(2×2, 3×3), resumes bit for bit, leaves the
/// model's network on im2col + GEMM, and is off (and absent from encoded
/// options) by default.
@Suite("Winograd training through fit")
struct WinogradTrainingFitTests {
    /// The built-in preset's architecture, smaller: a noise-level map, two 3×3 layers of 24, 16×16 patches.
    static func model(workers: Int = 2) throws -> DenoisingAutoencoder {
        var configuration = DenoisingAutoencoder.Configuration.builtInPhoto(channels: 3)
        configuration.layerFilters = [24, 24]
        configuration.inputShape = [16, 16, 3]
        var model = try DenoisingAutoencoder(configuration: configuration, seed: 4)
        model.workers = workers
        return model
    }

    static func patches(count: Int = 24) throws -> Tensor {
        var rng = SplitMix64(seed: 12)
        return try Tensor(images: (0..<(count * 16 * 16 * 3)).map { _ in Float(rng.nextUniform()) }, imageShape: [16, 16, 3])
    }

    /// Options of `epochs` epochs on `path` (nil: im2col + GEMM).
    static func options(epochs: Int, path: WinogradTrainingPath?) -> TrainingOptions {
        var options = TrainingOptions(epochs: epochs, batchSize: 8, noise: .photoBlind, seed: 11)
        options.winogradConvolutions = path != nil
        options.winogradF4 = path?.isF4 == true
        options.winogradF4WeightGradient = path == .f4WeightGradient
        return options
    }

    @Test("trains as im2col + GEMM does to rounding, and leaves the network on im2col + GEMM (F(2×2) and both F(4×4) paths)",
          arguments: WinogradTrainingPath.allCases)
    func trainsLikeTheGEMMPath(path: WinogradTrainingPath) throws {
        let images = try Self.patches()
        var gemm = try Self.model(), winograd = try Self.model()
        let gemmHistory = try gemm.fit(images, options: Self.options(epochs: 2, path: nil))
        let winogradHistory = try winograd.fit(images, options: Self.options(epochs: 2, path: path))
        #expect(!winograd.network.usesWinograd, "fit converts back when it returns")
        let finite = winogradHistory.trainLosses.allSatisfy { $0.isFinite }
        #expect(finite)
        for (a, b) in zip(winogradHistory.trainLosses, gemmHistory.trainLosses) { #expect(abs(a - b) <= 1e-4 * abs(b)) }
        #expect(winograd.parameters != gemm.parameters, "Winograd rounds differently (if this fails, it no longer runs)")
        for (name, value) in gemm.parameters {
            expectApproximatelyEqual(try #require(winograd.parameters[name]), value, relativeTolerance: 1e-3, name)
        }
    }

    @Test("a Winograd run resumed from a checkpoint ends with the uninterrupted run's bits (F(2×2) and both F(4×4) paths)",
          arguments: WinogradTrainingPath.allCases)
    func exactResume(path: WinogradTrainingPath) throws {
        let images = try Self.patches()
        var straight = try Self.model()
        try straight.fit(images, options: Self.options(epochs: 2, path: path))
        try withTemporaryDirectory { directory in
            let resumed = try Photos.resumedFit(try Self.model(), on: images, options: Self.options(epochs: 2, path: path),
                                                in: directory)
            #expect(resumed.parameters == straight.parameters)
        }
        // Each path rounds differently from the one before it (if this fails, the path no longer runs).
        let index = WinogradTrainingPath.allCases.firstIndex(of: path)!
        if index > 0 {
            var other = try Self.model()
            try other.fit(images, options: Self.options(epochs: 2, path: WinogradTrainingPath.allCases[index - 1]))
            #expect(other.parameters != straight.parameters)
        }
    }

    @Test("off by default; encoded only when on, decoded as off when absent")
    func optionsCoding() throws {
        #expect(!TrainingOptions().winogradConvolutions)
        let off = String(decoding: try JSONEncoder().encode(TrainingOptions(epochs: 1)), as: UTF8.self)
        #expect(!off.contains("winograd"))
        let on = Self.options(epochs: 1, path: .f2)
        let encoded = try JSONEncoder().encode(on)
        #expect(String(decoding: encoded, as: UTF8.self).contains("\"winogradConvolutions\":true"))
        #expect(try JSONDecoder().decode(TrainingOptions.self, from: encoded) == on)
        #expect(try JSONDecoder().decode(TrainingOptions.self, from: try JSONEncoder().encode(TrainingOptions(epochs: 1))) == TrainingOptions(epochs: 1))
        #expect(!String(decoding: encoded, as: UTF8.self).contains("winogradF4"))
        let f4 = Self.options(epochs: 1, path: .f4)
        let encodedF4 = try JSONEncoder().encode(f4)
        #expect(String(decoding: encodedF4, as: UTF8.self).contains("\"winogradF4\":true"))
        #expect(!String(decoding: encodedF4, as: UTF8.self).contains("WeightGradient"))
        #expect(try JSONDecoder().decode(TrainingOptions.self, from: encodedF4) == f4)
        let full = Self.options(epochs: 1, path: .f4WeightGradient)
        let encodedFull = try JSONEncoder().encode(full)
        #expect(String(decoding: encodedFull, as: UTF8.self).contains("\"winogradF4WeightGradient\":true"))
        #expect(try JSONDecoder().decode(TrainingOptions.self, from: encodedFull) == full)
    }
}
