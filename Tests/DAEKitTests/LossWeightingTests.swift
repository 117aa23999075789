import DAEFiles
import DAEKit
import DAETestSupport
import Foundation
import Testing

/// `TrainingOptions.lossWeighting`: blind-noise training with each patch's
/// squared error divided by its noise std, used the way `dae train
/// --loss-weighting noise-std` uses it.
@Suite("Loss weighting")
struct LossWeightingTests {
    @Test("the weights: 1 at the reference std, inversely proportional above the floor, constant below it")
    func weights() throws {
        let balanced = LossWeighting.photoBalanced
        #expect(balanced.weight(noiseStd: 25 / 255) == 1)
        #expect(abs(balanced.weight(noiseStd: 50 / 255) - 0.5) < 1e-6)
        #expect(abs(balanced.weight(noiseStd: 15 / 255) - 5.0 / 3) < 1e-6)
        #expect(balanced.weight(noiseStd: 0) == balanced.weight(noiseStd: 5 / 255))
        #expect(abs(balanced.weight(noiseStd: 0) - 5) < 1e-5)
        #expect(LossWeighting.uniform.weight(noiseStd: 0.3) == 1)
        #expect(throws: DAEError.self) { try LossWeighting.inverseNoiseStd(reference: 0.1, floor: 0).validate() }
        #expect(throws: DAEError.self) { try LossWeighting.inverseNoiseStd(reference: .nan, floor: 0.1).validate() }
        var options = TrainingOptions(noise: .photoBlind)
        options.lossWeighting = .inverseNoiseStd(reference: -1, floor: 0.01)
        #expect(throws: DAEError.self) { try options.validate() }
    }

    @Test("options encode the weighting only when it is not uniform, and decode it back")
    func coding() throws {
        let plain = TrainingOptions(epochs: 3, noise: .photoBlind, seed: 4)
        let plainJSON = try JSONCoding.string(plain)
        #expect(!plainJSON.contains("lossWeighting"), "options without it encode as before: \(plainJSON)")
        #expect(try JSONCoding.decode(TrainingOptions.self, from: plainJSON) == plain)
        var weighted = plain
        weighted.lossWeighting = .photoBalanced
        let json = try JSONCoding.string(weighted)
        #expect(json.contains("lossWeighting"))
        #expect(try JSONCoding.decode(TrainingOptions.self, from: json) == weighted)
    }

    /// (Training and resuming with it: `NoiseMapModelTests.trainsAndResumes`.)
    @Test("blind noise weighted: another loss and other weights than the plain mean squared error's")
    func weightedFitDiffers() throws {
        try withTemporaryDirectory { directory in
            let patches = try NoiseMapModelTests.trainingPatches(in: directory)
            var options = TrainingOptions(epochs: 1, batchSize: 16, noise: .photoBlind, seed: 3)
            var plain = try NoiseMapModelTests.smallModel(), weighted = plain
            let plainLoss = try plain.fit(patches, validation: patches, options: options).epochs[0]
            options.lossWeighting = .photoBalanced
            let loss = try weighted.fit(patches, validation: patches, options: options).epochs[0]
            #expect(weighted.parameters != plain.parameters)
            // The training loss is the weighted one; the validation loss, the plain MSE, of another model.
            #expect(loss.trainLoss.isFinite && loss.trainLoss != plainLoss.trainLoss)
            #expect(loss.validationLoss?.isFinite == true && loss.validationLoss != plainLoss.validationLoss)
        }
    }

    @Test("noise of one std: every weight the same; 1 at the reference std (the plain run's bits), 1/2 at σ 50 (half the loss)")
    func constantNoise() throws {
        try withTemporaryDirectory { directory in
            let folder = try ImageFolder(directory: try Photos.folder(in: directory), channels: 3)
            let patches = try PatchSampler(folder, patchSize: 16, patchesPerEpoch: 32, augment: false, scales: [1], seed: 5)
            /// One epoch at noise `std`, plain and weighted: the histories and the models.
            func pair(std: Float) throws -> (plain: (TrainingHistory, DenoisingAutoencoder), weighted: (TrainingHistory, DenoisingAutoencoder)) {
                var options = TrainingOptions(epochs: 1, batchSize: 16, noise: .photo(std: std), seed: 6)
                var plain = try NoiseMapModelTests.smallModel(), weighted = plain
                let plainHistory = try plain.fit(patches, options: options)
                options.lossWeighting = .photoBalanced
                let weightedHistory = try weighted.fit(patches, options: options)
                return ((plainHistory, plain), (weightedHistory, weighted))
            }
            let reference = try pair(std: 25 / 255)
            #expect(reference.weighted.1.parameters == reference.plain.1.parameters)
            // At σ 50 every gradient is halved: Adam's steps hardly change (only through its ε), the loss is half.
            let heavy = try pair(std: 50 / 255)
            let ratio = heavy.weighted.0.epochs[0].trainLoss / heavy.plain.0.epochs[0].trainLoss
            #expect(abs(ratio - 0.5) < 1e-3, "weighted / plain loss \(ratio)")
        }
    }
}
