import DAEFiles
import DAEKit
import DAETestSupport
import Foundation
import Testing

/// Saving, loading and resuming: nothing is lost and nothing changes.
///
/// A class, so that `deinit` removes each test's directory (Swift Testing
/// makes one instance per test and releases it when the test ends).
@Suite final class CheckpointTests {
    let directory: URL

    init() throws { directory = try makeTemporaryDirectory() }

    deinit { try? FileManager.default.removeItem(at: directory) }

    func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    func smallOptions(epochs: Int) -> TrainingOptions {
        TrainingOptions(epochs: epochs, batchSize: 16, noise: .tutorial, seed: 11)
    }

    @Test func saveThenLoadGivesIdenticalOutputs() throws {
        let train = try SyntheticImages.rectangles(count: 64, seed: 1)
        var model = try DenoisingAutoencoder(configuration: .init(), seed: 3)
        try model.fit(train, options: smallOptions(epochs: 1))
        try model.save(to: url("model.safetensors"))

        let restored = try DenoisingAutoencoder(contentsOf: url("model.safetensors"))
        #expect(restored.configuration == model.configuration)
        #expect(restored.parameters == model.parameters)
        #expect(restored.epochsCompleted == 1)
        #expect(restored.history == model.history)
        #expect(restored.optimizer == model.optimizer)
        let batch = train.batch(0..<8)
        #expect(try restored.denoise(batch) == (try model.denoise(batch)))
        // No temporary file is left beside the checkpoint.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["model.safetensors"])
    }

    @Test func resumingAfterTwoEpochsEqualsFourStraightEpochs() throws {
        let train = try SyntheticImages.rectangles(count: 96, seed: 1)
        let validation = try SyntheticImages.rectangles(count: 32, seed: 2)

        var straight = try DenoisingAutoencoder(configuration: .init(), seed: 5)
        try straight.fit(train, validation: validation, options: smallOptions(epochs: 4))

        var first = try DenoisingAutoencoder(configuration: .init(), seed: 5)
        try first.fit(train, validation: validation, options: smallOptions(epochs: 2))
        try first.save(to: url("half.safetensors"))
        var resumed = try DenoisingAutoencoder(contentsOf: url("half.safetensors"))
        try resumed.fit(train, validation: validation, options: smallOptions(epochs: 2))

        #expect(resumed.epochsCompleted == 4)
        #expect(resumed.parameters == straight.parameters, "weights must be bit-identical")
        #expect(resumed.history.trainLosses == straight.history.trainLosses)
        #expect(resumed.history.validationLosses == straight.history.validationLosses)
    }

    @Test func weightsOnlyFileFromAnotherFrameworkLoads() throws {
        let source = try DenoisingAutoencoder(configuration: .init(), seed: 8)
        // Only the weights, with the Keras names, no metadata: what a Keras or PyTorch export writes.
        try SafetensorsFile(tensors: source.parameters).write(to: url("weights.safetensors"))
        var model = try DenoisingAutoencoder(configuration: .init(), seed: 9)
        try model.loadWeights(from: url("weights.safetensors"))
        #expect(model.parameters == source.parameters)
        // Without a configuration in the metadata the architecture is inferred
        // from the weights (see WeightsOnlyModelTests); the training state starts afresh.
        let loaded = try DenoisingAutoencoder(contentsOf: url("weights.safetensors"))
        #expect(loaded.configuration == source.configuration && loaded.parameters == source.parameters)
        #expect(loaded.epochsCompleted == 0 && loaded.optimizer.step == 0)
    }

    @Test func checkpointOfAnotherConfigurationIsRejectedAndModelUnchanged() throws {
        let other = try DenoisingAutoencoder(configuration: .init(layerFilters: [16, 32]), seed: 1)
        try other.save(to: url("other.safetensors"))
        var model = try DenoisingAutoencoder(configuration: .init(), seed: 2)
        let before = model.parameters
        #expect {
            try model.loadWeights(from: url("other.safetensors"))
        } throws: { error in
            let text = "\(error)"
            return text.contains("other.safetensors") && text.contains("encoder.conv0.kernel") && text.contains("[3, 3, 1, 16]")
        }
        #expect(model.parameters == before)
    }

    @Test func missingTensorIsNamed() throws {
        var tensors = try DenoisingAutoencoder(configuration: .init(), seed: 1).parameters
        tensors["decoder.output.bias"] = nil
        try SafetensorsFile(tensors: tensors).write(to: url("partial.safetensors"))
        var model = try DenoisingAutoencoder(configuration: .init(), seed: 1)
        #expect(throws: DAEError.missingTensor(name: "decoder.output.bias", path: url("partial.safetensors").path)) {
            try model.loadWeights(from: url("partial.safetensors"))
        }
    }

    @Test func corruptAndTruncatedCheckpointsThrowNamingTheFile() throws {
        let model = try DenoisingAutoencoder(configuration: .init(), seed: 1)
        try model.save(to: url("good.safetensors"))
        let bytes = try Data(contentsOf: url("good.safetensors"))
        try bytes.prefix(bytes.count / 2).write(to: url("truncated.safetensors"))
        try Data("not a checkpoint at all".utf8).write(to: url("garbage.safetensors"))
        for name in ["truncated.safetensors", "garbage.safetensors", "absent.safetensors"] {
            #expect {
                _ = try DenoisingAutoencoder(contentsOf: url(name))
            } throws: { error in
                "\(error)".contains(name)
            }
        }
    }

    @Test func failedSaveLeavesThePreviousCheckpointIntact() throws {
        let model = try DenoisingAutoencoder(configuration: .init(), seed: 1)
        try model.save(to: url("keep.safetensors"))
        let before = try Data(contentsOf: url("keep.safetensors"))
        let missingDirectory = directory.appendingPathComponent("no/such/dir/model.safetensors")
        #expect(throws: DAEError.self) { try model.save(to: missingDirectory) }
        #expect(try Data(contentsOf: url("keep.safetensors")) == before)
    }

    @Test func kerasReferenceFileLoadsAsACheckpoint() throws {
        let model = try DenoisingAutoencoder(contentsOf: ReferenceVectors.smallGray)   // configuration from `architecture`
        #expect(model.configuration == DenoisingAutoencoder.Configuration(inputShape: [16, 16, 1], layerFilters: [8, 16], latentDim: 8))
    }
}
