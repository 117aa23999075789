@testable import DAEKit
import DAETestSupport
import Testing

/// `DenoisingAutoencoder.grayscale()`: a colour residual model made gray
/// computes, on a gray image, the mean of what the colour model computes on
/// that image in all three channels; the built-in gray model starts there.
@Suite("A colour model converted to gray")
struct GrayConversionTests {
    /// The network outputs (predicted noise) of `model` on `image` (`[1, h, w, c]`) with a noise map of `sigma`.
    static func prediction(_ model: DenoisingAutoencoder, _ image: Tensor, sigma: Float) throws -> Tensor {
        let (h, w, c) = (image.shape[1], image.shape[2], image.shape[3])
        // The network is built for its training patches: resized to the image (any size, the same weights).
        let mapped = model.configuration.noiseMap ? 1 : 0
        let network = try model.network.resized(toInput: [h, w, c + mapped])
        guard mapped == 1 else { return try enginePredict(network: network, input: image) }
        var input = [Float]()
        for pixel in 0..<(h * w) { input += image.scalars[(pixel * c)..<((pixel + 1) * c)] + [sigma] }
        return try enginePredict(network: network, input: Tensor(shape: [1, h, w, c + 1], scalars: input))
    }

    @Test("gray(x) = mean over channels of colour(x, x, x)",
          arguments: [DenoisingAutoencoder.Configuration.builtInPhoto(channels: 3), .photo(channels: 3), .ffdnet(channels: 3)])
    func matchesTheColourModel(configuration: DenoisingAutoencoder.Configuration) throws {
        let colour = try DenoisingAutoencoder(configuration: configuration, seed: 5)
        let gray = try colour.grayscale()
        #expect(gray.configuration.inputShape == [configuration.inputShape[0], configuration.inputShape[1], 1])
        #expect(gray.configuration.kind == configuration.kind && gray.configuration.layerFilters == configuration.layerFilters)
        let image = randomTensor(shape: [1, 12, 10, 1], seed: 9)
        let replicated = Tensor(shape: [1, 12, 10, 3], scalars: image.scalars.flatMap { [$0, $0, $0] })
        let expected = try Self.prediction(colour, replicated, sigma: 0.1).scalars
        let actual = try Self.prediction(gray, image, sigma: 0.1).scalars
        #expect(actual.count == expected.count / 3)
        var worst: Float = 0, largest: Float = 0
        for (i, value) in actual.enumerated() {
            let mean = (expected[3 * i] + expected[3 * i + 1] + expected[3 * i + 2]) / 3
            worst = max(worst, abs(value - mean))
            largest = max(largest, abs(mean))
        }
        #expect(largest > 0 && worst <= 1e-5 * max(1, largest), "largest |difference| \(worst) of \(largest)")
        // A fresh model: no training state.
        #expect(gray.epochsCompleted == 0 && gray.optimizer.step == 0 && gray.trainingSeed == nil)
    }

    @Test("Only a three-channel residual model converts")
    func refusesOtherModels() throws {
        let tutorial = try DenoisingAutoencoder(configuration: .init(), seed: 1)
        #expect(throws: DAEError.self) { try tutorial.grayscale() }
        let gray = try DenoisingAutoencoder(configuration: .photo(channels: 1), seed: 1)
        #expect(throws: DAEError.self) { try gray.grayscale() }
    }

    @Test("loadWeights(of:) copies another model's weights by name and refuses another architecture")
    func loadWeightsOfAnotherModel() throws {
        let source = try DenoisingAutoencoder(configuration: .photo(channels: 1), seed: 3)
        var target = try DenoisingAutoencoder(configuration: .photo(channels: 1), seed: 4)
        try target.loadWeights(of: source)
        #expect(target.parameters == source.parameters)
        var other = try DenoisingAutoencoder(configuration: .builtInPhoto(channels: 1), seed: 4)
        let before = other.parameters
        #expect(throws: DAEError.self) { try other.loadWeights(of: source) }
        #expect(other.parameters == before)
    }
}
