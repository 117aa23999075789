import DAEKit
import Foundation
import Testing

/// The README's "embed it" example, compiled and run: build the tutorial
/// model, train it a few hundred steps on synthetic images, and check that
/// it really denoises.
@Suite struct EmbeddingExampleTests {
    @Test func trainingOnRectanglesDenoisesWellBelowTheNoisyInput() throws {
        let train = try SyntheticImages.rectangles(count: 1024, seed: 1)
        let test = try SyntheticImages.rectangles(count: 256, seed: 2)

        // --- README example starts ---
        var model = try DenoisingAutoencoder(configuration: .init(), seed: 42)
        var batchesSeen = 0
        let history = try model.fit(train, validation: test,
                                    options: TrainingOptions(epochs: 8, batchSize: 32, noise: .tutorial, seed: 7)) { event in
            if case .batch = event { batchesSeen += 1 }
        }
        let noisy = NoiseModel.tutorial.applied(to: test.allImagesTensor(), seed: 3)
        let denoised = try model.denoise(noisy)
        // --- README example ends ---

        #expect(batchesSeen == 8 * 32)
        #expect(history.epochs.map(\.epoch) == Array(1...8))
        let noisyLoss = try ImageMetrics.mse(noisy, test.allImagesTensor())
        let denoisedLoss = try ImageMetrics.mse(denoised, test.allImagesTensor())
        let validationLoss = try #require(history.epochs.last?.validationLoss)
        // The tutorial noise (mean 0.5, std 0.5, clipped) costs ~0.3 MSE; the model must remove most of it.
        #expect(Double(validationLoss) < noisyLoss / 5, "validation loss \(validationLoss) vs noisy input \(noisyLoss)")
        #expect(denoisedLoss < noisyLoss / 5)
        #expect(history.trainLosses.last! < history.trainLosses.first!)
        #expect(denoised.shape == noisy.shape)
        #expect(denoised.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    @Test func robustnessTableReportsEveryNoiseLevel() throws {
        let test = try SyntheticImages.rectangles(count: 64, seed: 5)
        let model = try DenoisingAutoencoder(configuration: .init(), seed: 1)
        let table = try model.evaluate(test, noiseLevels: [0.5, 0.75, 1.0], seed: 9, chunkSize: 20)
        #expect(table.map(\.std) == [0.5, 0.75, 1.0])
        // More noise, worse noisy input; the figures are reproducible from the seed.
        #expect(table[0].noisy.psnr > table[1].noisy.psnr && table[1].noisy.psnr > table[2].noisy.psnr)
        #expect(try model.evaluate(test, noiseLevels: [0.5], seed: 9, chunkSize: 20) == [table[0]])
        // Chunking does not change the result beyond rounding.
        let whole = try model.evaluate(test, noiseLevels: [0.5], seed: 9, chunkSize: 1000)[0]
        #expect(abs(whole.denoised.psnr - table[0].denoised.psnr) < 1e-9)
    }
}
