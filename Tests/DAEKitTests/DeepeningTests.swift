@testable import DAEKit
import DAETestSupport
import Testing

/// `DenoisingAutoencoder.deepened(toHiddenLayers:)`: identity layers inserted
/// between the hidden layers of a residual model leave its outputs as they
/// were; a deeper built-in model starts there.
@Suite("A residual model deepened with identity layers")
struct DeepeningTests {
    @Test("The deeper model predicts what the model did",
          arguments: [(DenoisingAutoencoder.Configuration.builtInPhoto(channels: 3), 16),
                      (.builtInPhotoDeep(channels: 3), DenoisingAutoencoder.Configuration.builtInPhotoDeeper().layerFilters.count),
                      (.photo(channels: 1), 9), (.ffdnet(channels: 3), 13)])
    func sameOutputs(configuration: DenoisingAutoencoder.Configuration, depth: Int) throws {
        var model = try DenoisingAutoencoder(configuration: configuration, seed: 5)
        // Random biases too, so that some hidden outputs are zero after the ReLU and some are not.
        for name in model.network.parameterNames where name.hasSuffix(".bias") {
            let bias = try #require(model.parameters[name])
            try model.setParameter(name, to: randomTensor(shape: bias.shape, seed: UInt64(name.utf8.count), range: -0.05...0.05))
        }
        let deeper = try model.deepened(toHiddenLayers: depth)
        #expect(deeper.configuration.layerFilters.count == depth)
        #expect(deeper.configuration.kind == configuration.kind && deeper.configuration.inputShape == configuration.inputShape)
        #expect(deeper.configuration.receptiveRadius == configuration.receptiveRadius
                + (depth - configuration.layerFilters.count) * (configuration.kind == .residual(downsampling: 2, noiseMap: true) ? 2 : 1))
        let image = randomTensor(shape: [1, 14, 12, configuration.inputShape[2]], seed: 3)
        let expected = try GrayConversionTests.prediction(model, image, sigma: 0.1)
        let actual = try GrayConversionTests.prediction(deeper, image, sigma: 0.1)
        #expect(actual.shape == expected.shape)
        let worst = maxAbsDifference(actual, expected), largest = maxMagnitude(expected.scalars.map(Double.init))
        #expect(largest > 0 && worst <= 1e-5 * max(1, largest), "largest |difference| \(worst) of \(largest)")
        #expect(deeper.epochsCompleted == 0 && deeper.optimizer.step == 0 && deeper.trainingSeed == nil)
    }

    @Test("Identity layers go evenly after the hidden layers, with the width of the layer before")
    func placement() throws {
        let configuration = DenoisingAutoencoder.Configuration(inputShape: [16, 16, 3], layerFilters: [8, 16, 24],
                                                               kind: .residual(downsampling: 1, noiseMap: false))
        let model = try DenoisingAutoencoder(configuration: configuration, seed: 2)
        let deeper = try model.deepened(toHiddenLayers: 5)
        // Old layers 0, 1, 2 land at 0, 1, 3; identities at 2 (after old 1) and 4 (after old 2).
        #expect(deeper.configuration.layerFilters == [8, 16, 16, 24, 24])
        let old = model.parameters, new = deeper.parameters
        for (from, to) in [(0, 0), (1, 1), (2, 3)] {
            #expect(new["denoiser.conv\(to).kernel"] == old["denoiser.conv\(from).kernel"])
            #expect(new["denoiser.conv\(to).bias"] == old["denoiser.conv\(from).bias"])
        }
        #expect(new["denoiser.output.kernel"] == old["denoiser.output.kernel"])
        for (index, filters) in [(2, 16), (4, 24)] {
            let kernel = try #require(new["denoiser.conv\(index).kernel"])
            #expect(kernel.shape == [3, 3, filters, filters])
            for row in 0..<3 { for column in 0..<3 { for i in 0..<filters { for o in 0..<filters {
                let expected: Float = row == 1 && column == 1 && i == o ? 1 : 0
                #expect(kernel[row, column, i, o] == expected)
            } } } }
            #expect(new["denoiser.conv\(index).bias"]?.scalars.allSatisfy { $0 == 0 } == true)
        }
        // The same depth is a copy of the weights.
        #expect(try model.deepened(toHiddenLayers: 3).parameters == old)
    }

    @Test("An autoencoder, or a model deeper than asked, does not deepen")
    func refusals() throws {
        let tutorial = try DenoisingAutoencoder(configuration: .init(), seed: 1)
        #expect(throws: DAEError.self) { try tutorial.deepened(toHiddenLayers: 4) }
        let photo = try DenoisingAutoencoder(configuration: .photo(channels: 3), seed: 1)
        #expect(throws: DAEError.self) { try photo.deepened(toHiddenLayers: 5) }
    }
}
