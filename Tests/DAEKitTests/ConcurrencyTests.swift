import DAEKit
import Foundation
import Testing

/// A trained model is a value that many tasks may use at once: `denoise`,
/// `encode` and `decode` build their own buffers per call, so concurrent
/// calls give exactly (bit for bit) what sequential calls give.
/// Run under ThreadSanitizer by scripts/sanitizers.
@Suite struct ConcurrencyTests {
    /// A small model trained for two epochs (so its weights are not the initial ones).
    private static func trainedModel() throws -> DenoisingAutoencoder {
        let configuration = DenoisingAutoencoder.Configuration(
            inputShape: [28, 28, 1], layerFilters: [8, 16], kernelSize: 3, latentDim: 8)
        var model = try DenoisingAutoencoder(configuration: configuration, seed: 21)
        model.workers = 2
        model.inferenceBatchSize = 5 // several chunks per call
        let images = try SyntheticImages.rectangles(count: 64, seed: 3)
        try model.fit(images, options: TrainingOptions(epochs: 2, batchSize: 16, seed: 21))
        return model
    }

    @Test("denoise from 8 concurrent tasks equals sequential calls, bit for bit")
    func concurrentDenoiseMatchesSequential() async throws {
        let model = try Self.trainedModel()
        let images = try SyntheticImages.rectangles(count: 8 * 12, seed: 99)
        // Eight different inputs of different sizes.
        let inputs: [Tensor] = (0..<8).map { task in images.batch((task * 12)..<(task * 12 + 4 + task)) }
        let sequential = try inputs.map { try model.denoise($0) }
        let latent = try #require(model.latentSpace)
        let sequentialLatents = try inputs.map { try latent.encode($0) }

        for round in 0..<3 {
            let concurrent = try await withThrowingTaskGroup(of: (Int, Tensor, Tensor).self) { group in
                for (task, input) in inputs.enumerated() {
                    group.addTask { (task, try model.denoise(input), try latent.encode(input)) }
                }
                var results = [(Tensor, Tensor)?](repeating: nil, count: inputs.count)
                for try await (task, denoised, latent) in group { results[task] = (denoised, latent) }
                return results
            }
            for task in inputs.indices {
                let (denoised, latent) = try #require(concurrent[task])
                #expect(denoised.shape == sequential[task].shape)
                #expect(denoised.scalars == sequential[task].scalars, "round \(round), task \(task): denoise differs")
                #expect(latent.scalars == sequentialLatents[task].scalars, "round \(round), task \(task): encode differs")
            }
        }
    }

    @Test("copies of one model trained in parallel tasks do not disturb each other")
    func parallelTrainingOfCopies() async throws {
        let base = try Self.trainedModel()
        let images = try SyntheticImages.rectangles(count: 32, seed: 5)
        let options = TrainingOptions(epochs: 1, batchSize: 8, seed: 8)
        var alone = base
        try await alone.fit(images, options: options)
        let expected = alone.parameters

        let results = try await withThrowingTaskGroup(of: [String: Tensor].self) { group in
            for _ in 0..<4 {
                group.addTask {
                    var copy = base // shares storage with `base` until it trains
                    try await copy.fit(images, options: options)
                    return copy.parameters
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        for parameters in results {
            #expect(parameters == expected, "a copy trained concurrently ended with other weights")
        }
        // The shared original is unchanged by its copies' training.
        #expect(base.epochsCompleted == 2)
    }
}
