import DAEKit
import Foundation
import Testing

/// Every user mistake is a thrown `DAEError` that says what was wrong.
@Suite struct InputErrorTests {
    let model: DenoisingAutoencoder

    init() throws { model = try DenoisingAutoencoder(configuration: .init(), seed: 1) }

    @Test func wrongShapeIsNamed() {
        #expect(throws: DAEError.shapeMismatch("denoise input", expected: [2, 28, 28, 1], actual: [2, 28, 28, 3])) {
            try model.denoise(Tensor(zeros: [2, 28, 28, 3]))
        }
        #expect(throws: DAEError.self) { try model.latentSpace?.decode(Tensor(zeros: [2, 15])) }
        #expect(throws: DAEError.self) { try model.latentSpace?.encode(Tensor(zeros: [0, 28, 28, 1])) }
    }

    @Test func valuesOutsideTheUnitIntervalAndNaNNameTheImage() {
        var scalars = [Float](repeating: 0.5, count: 3 * 784)
        scalars[2 * 784 + 10] = .nan
        #expect {
            try model.denoise(Tensor(shape: [3, 28, 28, 1], scalars: scalars))
        } throws: { "\($0)".contains("image 2") && "\($0)".contains("nan") }
        scalars[2 * 784 + 10] = 0.5
        scalars[784] = 1.5
        #expect {
            try model.denoise(Tensor(shape: [3, 28, 28, 1], scalars: scalars))
        } throws: { "\($0)".contains("image 1") && "\($0)".contains("[0, 1]") }
    }

    @Test func trainingRejectsMismatchedBatchesAndBadOptions() throws {
        var model = model
        let a = Tensor(zeros: [2, 28, 28, 1]), b = Tensor(zeros: [3, 28, 28, 1])
        #expect(throws: DAEError.self) { try model.trainStep(noisy: a, clean: b) }
        let data = try SyntheticImages.rectangles(count: 8, seed: 1)
        #expect(throws: DAEError.invalidArgument("batch size must be positive, got 0")) {
            try model.fit(data, options: TrainingOptions(epochs: 1, batchSize: 0))
        }
        #expect(throws: DAEError.self) {
            try model.fit(data, options: TrainingOptions(epochs: 1, noise: .gaussian(mean: 0.5, std: -1)))
        }
        let wrongSize = try SyntheticImages.rectangles(count: 8, height: 32, width: 32, seed: 1)
        #expect(throws: DAEError.shapeMismatch("training images", expected: [28, 28, 1], actual: [32, 32, 1])) {
            try model.fit(wrongSize)
        }
    }

    @Test func divergingTrainingStopsAtTheFirstNonFiniteLossKeepingFiniteWeights() throws {
        var configuration = DenoisingAutoencoder.Configuration()
        configuration.optimizer.learningRate = 1e30
        var model = try DenoisingAutoencoder(configuration: configuration, seed: 1)
        let data = try SyntheticImages.rectangles(count: 256, seed: 1)
        #expect {
            try model.fit(data, options: TrainingOptions(epochs: 5, batchSize: 32))
        } throws: { error in
            guard case DAEError.nonFiniteLoss = error else { return false }
            return "\(error)".contains("diverged")
        }
        #expect(model.parameters.values.allSatisfy { $0.scalars.allSatisfy(\.isFinite) })
    }

    @Test func throwingFromProgressStopsTraining() throws {
        var model = model
        let data = try SyntheticImages.rectangles(count: 64, seed: 1)
        var steps = 0
        #expect(throws: DAEError.cancelled("test")) {
            try model.fit(data, options: TrainingOptions(epochs: 3, batchSize: 8)) { event in
                if case .batch = event {
                    steps += 1
                    if steps == 3 { throw DAEError.cancelled("test") }
                }
            }
        }
        #expect(steps == 3)
        #expect(model.epochsCompleted == 0)
    }
}

extension InputErrorTests {
    @Test func nonFiniteTrainingDataIsRejectedNamingTheImage() {
        var model = model
        var scalars = [Float](repeating: 0.25, count: 4 * 784)
        scalars[3 * 784 + 5] = .infinity
        #expect {
            try model.fit(Tensor(shape: [4, 28, 28, 1], scalars: scalars), options: TrainingOptions(epochs: 1))
        } throws: { "\($0)".contains("training images") && "\($0)".contains("image 3") }
        #expect(model.epochsCompleted == 0)
    }
}
