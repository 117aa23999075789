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

    @Test("a weighted fit trains, differs from a plain one, and resumes bit for bit")
    func fitAndResume() throws {
        try withTemporaryDirectory { directory in
            let folder = try ImageFolder(directory: try Photos.folder(in: directory), channels: 3)
            let patches = try PatchSampler(folder, patchSize: 16, patchesPerEpoch: 64, augment: true, scales: [1], seed: 2)
            var options = TrainingOptions(epochs: 2, batchSize: 16, noise: .photoBlind, seed: 3)
            var plain = try NoiseMapModelTests.smallModel()
            let plainHistory = try plain.fit(patches, validation: patches, options: options)

            options.lossWeighting = .photoBalanced
            var straight = try NoiseMapModelTests.smallModel()
            let history = try straight.fit(patches, validation: patches, options: options)
            #expect(history.epochs.allSatisfy { $0.trainLoss.isFinite && $0.validationLoss?.isFinite == true })
            #expect(straight.parameters != plain.parameters)
            // The training loss is the weighted one; the validation loss is the plain MSE of another model.
            #expect(history.epochs[0].trainLoss != plainHistory.epochs[0].trainLoss)

            var first = try NoiseMapModelTests.smallModel()
            var half = options
            half.epochs = 1
            try first.fit(patches, validation: patches, options: half)
            let url = directory.appendingPathComponent("half.safetensors")
            try first.save(to: url)
            var resumed = try DenoisingAutoencoder(contentsOf: url)
            try resumed.fit(patches, validation: patches, options: half)
            #expect(resumed.parameters == straight.parameters)
        }
    }

    @Test("with noise of one std the weighting changes only the loss's scale: the same steps as uniform under Adam")
    func constantNoiseIsUniform() throws {
        try withTemporaryDirectory { directory in
            let folder = try ImageFolder(directory: try Photos.folder(in: directory), channels: 3)
            let patches = try PatchSampler(folder, patchSize: 16, patchesPerEpoch: 32, augment: false, scales: [1], seed: 5)
            // σ 25/255 is the reference: every weight is exactly 1, so the bits agree.
            var options = TrainingOptions(epochs: 1, batchSize: 16, noise: .photo(std: 25 / 255), seed: 6)
            var plain = try NoiseMapModelTests.smallModel()
            try plain.fit(patches, options: options)
            options.lossWeighting = .photoBalanced
            var weighted = try NoiseMapModelTests.smallModel()
            try weighted.fit(patches, options: options)
            #expect(weighted.parameters == plain.parameters)
        }
    }
}
