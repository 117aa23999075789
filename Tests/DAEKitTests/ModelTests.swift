import DAEKit
import Foundation
import Testing

/// Building models: the tutorial default, other architectures, and
/// configurations that cannot work.
@Suite struct ModelTests {
    @Test func tutorialModelHasKerasNamesShapesAndParameterCount() throws {
        let model = try DenoisingAutoencoder(configuration: .init(), seed: 42)
        #expect(model.parameterCount == 178_001)
        let shapes = model.parameters.mapValues(\.shape)
        #expect(shapes["encoder.conv0.kernel"] == [3, 3, 1, 32])
        #expect(shapes["encoder.conv1.kernel"] == [3, 3, 32, 64])
        #expect(shapes["encoder.latent.kernel"] == [3136, 16])
        #expect(shapes["decoder.dense.kernel"] == [16, 3136])
        #expect(shapes["decoder.deconv0.kernel"] == [3, 3, 64, 64])
        #expect(shapes["decoder.deconv1.kernel"] == [3, 3, 32, 64])
        #expect(shapes["decoder.output.kernel"] == [3, 3, 1, 32])
        #expect(shapes["decoder.output.bias"] == [1])
        #expect(model.parameters.count == 14)
    }

    @Test func sameSeedSameWeightsOtherSeedOtherWeights() throws {
        let a = try DenoisingAutoencoder(configuration: .init(), seed: 7)
        let b = try DenoisingAutoencoder(configuration: .init(), seed: 7)
        let c = try DenoisingAutoencoder(configuration: .init(), seed: 8)
        #expect(a.parameters == b.parameters)
        #expect(a.parameters["encoder.conv0.kernel"] != c.parameters["encoder.conv0.kernel"])
        #expect(a.parameters["encoder.conv0.bias"]!.scalars.allSatisfy { $0 == 0 })
    }

    @Test func encodeDecodeAndDenoiseShapes() throws {
        let model = try DenoisingAutoencoder(configuration: .init(), seed: 1)
        let batch = Tensor(repeating: 0.5, shape: [3, 28, 28, 1])
        let latent = try #require(model.latentSpace)
        #expect(latent.dimension == 16)
        let z = try latent.encode(batch)
        #expect(z.shape == [3, 16])
        #expect(try latent.decode(z).shape == [3, 28, 28, 1])
        #expect(try model.denoise(batch) == (try latent.decode(z)))
    }

    @Test("a copied model never sees the other's training steps, either way")
    func copiedModelKeepsItsWeights() throws {
        var model = try DenoisingAutoencoder(configuration: .init(inputShape: [8, 8, 1], layerFilters: [4], latentDim: 3), seed: 2)
        var rng = SplitMix64(seed: 6)
        let clean = Tensor(shape: [4, 8, 8, 1], scalars: (0..<256).map { _ in Float(rng.nextUniform()) })
        let noisy = NoiseModel.tutorial.applied(to: clean, seed: 7)
        var copy = model
        let before = model.parameters
        let output = try copy.denoise(noisy)
        try model.trainStep(noisy: noisy, clean: clean)
        #expect(model.parameters != before)
        #expect(copy.parameters == before && copy.optimizer.step == 0)
        #expect(try copy.denoise(noisy) == output)
        let trained = model.parameters
        try copy.trainStep(noisy: noisy, clean: clean)
        try copy.trainStep(noisy: noisy, clean: clean)
        #expect(model.parameters == trained && model.optimizer.step == 1)
    }

    static let otherArchitectures: [DenoisingAutoencoder.Configuration] = [
        .init(inputShape: [32, 32, 3], layerFilters: [16, 32], kernelSize: 5, latentDim: 8),
        .init(inputShape: [16, 24, 2], layerFilters: [8, 8, 8], kernelSize: 3, latentDim: 4),
        .init(inputShape: [28, 28, 1], layerFilters: [4], kernelSize: 1, latentDim: 32),
        .init(inputShape: [18, 18, 1], layerFilters: [6, 10], kernelSize: 3, latentDim: 2, stride: 3),
    ]

    @Test(arguments: otherArchitectures)
    func otherArchitecturesBuildTrainAndRoundTrip(_ configuration: DenoisingAutoencoder.Configuration) throws {
        var model = try DenoisingAutoencoder(configuration: configuration, seed: 3)
        let n = 5
        let shape = [n] + configuration.inputShape
        var rng = SplitMix64(seed: 4)
        let clean = Tensor(shape: shape, scalars: (0..<Tensor.elementCount(of: shape)).map { _ in Float(rng.nextUniform()) })
        let noisy = NoiseModel.tutorial.applied(to: clean, seed: 5)
        #expect(try model.denoise(noisy).shape == shape)
        #expect(try #require(model.latentSpace).encode(noisy).shape == [n, configuration.latentDim])
        let first = try model.trainStep(noisy: noisy, clean: clean)
        var last = first
        for _ in 0..<30 { last = try model.trainStep(noisy: noisy, clean: clean) }
        #expect(last < first, "loss did not fall: \(first) → \(last)")
        let (_, gradients) = try model.lossAndGradients(noisy: noisy, clean: clean)
        #expect(Set(gradients.keys) == Set(model.parameterNames))
    }

    @Test(arguments: [
        (DenoisingAutoencoder.Configuration(inputShape: [28, 28]), "inputShape"),
        (.init(inputShape: [28, 28, 0]), "channels"),
        (.init(layerFilters: []), "layerFilters is empty"),
        (.init(layerFilters: [32, 0]), "every entry must be positive"),
        (.init(kernelSize: 4), "odd"),
        (.init(kernelSize: 0), "kernelSize"),
        (.init(latentDim: 0), "latentDim"),
        (.init(inputShape: [27, 28, 1]), "not divisible"),
        (.init(inputShape: [4, 4, 1], layerFilters: [8, 8, 8]), "too small"),
        (.init(optimizer: Adam.Settings(learningRate: -1)), "learning rate"),
    ])
    func impossibleConfigurationsThrowANamedProblem(_ configuration: DenoisingAutoencoder.Configuration, _ phrase: String) {
        #expect {
            _ = try DenoisingAutoencoder(configuration: configuration, seed: 0)
        } throws: { error in
            guard case DAEError.invalidConfiguration = error else { return false }
            return "\(error)".contains(phrase)
        }
    }

    @Test func summaryListsLayersShapesAndTotal() throws {
        let summary = try DenoisingAutoencoder(configuration: .init(), seed: 0).summary()
        #expect(summary.contains("encoder.conv0"))
        #expect(summary.contains("Conv2DTranspose"))
        #expect(summary.contains("(None, 14, 14, 32)"))
        #expect(summary.contains("(None, 28, 28, 1)"))
        #expect(summary.contains("Total params: 178,001"))
    }
}
