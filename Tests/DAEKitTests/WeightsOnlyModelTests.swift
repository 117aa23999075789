import DAEFiles
import DAEKit
import Foundation
import Testing

/// A file with only weights under DAEKit's names (what another framework
/// writes, following the CheckpointFormat article) loads as a model, its
/// architecture inferred from the tensor names and shapes.
@Suite struct WeightsOnlyModelTests {
    /// Writes `model`'s weights alone, with no metadata, as Python's `safetensors` would.
    static func writeWeightsOnly(_ model: DenoisingAutoencoder, to url: URL) throws {
        try SafetensorsFile(tensors: model.parameters, metadata: [:]).write(to: url)
    }

    @Test(arguments: [
        DenoisingAutoencoder.Configuration(),
        DenoisingAutoencoder.Configuration(inputShape: [32, 32, 3], layerFilters: [8, 16, 24], kernelSize: 5, latentDim: 10),
    ])
    func aWeightsOnlyFileLoadsWithItsArchitectureInferred(_ configuration: DenoisingAutoencoder.Configuration) throws {
        try withTemporaryDirectory { directory in
            let original = try DenoisingAutoencoder(configuration: configuration, seed: 7)
            let url = directory.appendingPathComponent("keras-weights.safetensors")
            try Self.writeWeightsOnly(original, to: url)

            let (model, inferred) = try DenoisingAutoencoder.load(contentsOf: url)
            #expect(model.configuration == configuration)
            #expect(model.parameters == original.parameters)
            let explanation = try #require(inferred)
            #expect(explanation.contains("input \(configuration.inputShape.map(String.init).joined(separator: "x"))"), "\(explanation)")
            #expect(explanation.contains("assuming a square input and stride 2"))
            #expect(explanation.contains("latent \(configuration.latentDim)"))
            // The plain initialiser infers the same.
            #expect(try DenoisingAutoencoder(contentsOf: url).configuration == configuration)
            // A checkpoint that states its configuration reports no inference.
            try original.save(to: url)
            #expect(try DenoisingAutoencoder.load(contentsOf: url).inferred == nil)
        }
    }

    @Test func aResidualDenoiserIsRecognisedByItsNames() throws {
        try withTemporaryDirectory { directory in
            let configuration = DenoisingAutoencoder.Configuration.photo(channels: 3)
            let original = try DenoisingAutoencoder(configuration: configuration, seed: 2)
            let url = directory.appendingPathComponent("dncnn.safetensors")
            try Self.writeWeightsOnly(original, to: url)
            let (model, inferred) = try DenoisingAutoencoder.load(contentsOf: url)
            #expect(model.configuration == configuration) // 40x40 patches are the default
            #expect(model.parameters == original.parameters)
            #expect(inferred?.contains("a residual denoiser of 7 convolutions") == true, "\(inferred ?? "")")
            let wide = try DenoisingAutoencoder.load(contentsOf: url, inputShape: [64, 96, 3]).model
            #expect(wide.configuration.inputShape == [64, 96, 3] && wide.configuration.architecture == .residual)
        }
    }

    @Test("a gap in the layer numbers (conv0, conv2, no conv1) is an error naming the tensor left over, not a dropped layer")
    func aMissingLayerIsReported() throws {
        try withTemporaryDirectory { directory in
            var configuration = DenoisingAutoencoder.Configuration.photo(channels: 3)
            configuration.layerFilters = [8, 8, 8]
            let original = try DenoisingAutoencoder(configuration: configuration, seed: 2)
            let tensors = original.parameters.filter { !$0.key.hasPrefix("denoiser.conv1.") }
            let url = directory.appendingPathComponent("gap.safetensors")
            try SafetensorsFile(tensors: tensors, metadata: [:]).write(to: url)
            #expect {
                _ = try DenoisingAutoencoder(contentsOf: url)
            } throws: { error in
                "\(error)".contains("denoiser.conv2") && "\(error)".contains("not part of the model")
            }
        }
    }

    @Test func aNonSquareInputIsGivenExplicitly() throws {
        let configuration = DenoisingAutoencoder.Configuration(inputShape: [16, 24, 1], layerFilters: [4, 8], latentDim: 6)
        let original = try DenoisingAutoencoder(configuration: configuration, seed: 3)
        // 4·6·8 = 192 features: not a square bottleneck, so the size cannot be guessed…
        #expect {
            _ = try DenoisingAutoencoder.Configuration.inferred(fromWeights: original.parameters)
        } throws: { error in
            "\(error)".contains("not a square bottleneck") && "\(error)".contains("input shape")
        }
        // …and is given instead.
        let inferred = try DenoisingAutoencoder.Configuration.inferred(fromWeights: original.parameters, inputShape: [16, 24, 1])
        #expect(inferred.configuration == configuration)
        #expect(inferred.explanation.contains("input 16x24x1 (given), stride 2"))
    }

    @Test func foreignNamesAreReportedWithWhereToLook() throws {
        try withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("pytorch.safetensors")
            try SafetensorsFile(tensors: ["conv1.weight": Tensor(zeros: [32, 1, 3, 3])]).write(to: url)
            #expect {
                _ = try DenoisingAutoencoder(contentsOf: url)
            } throws: { error in
                let text = "\(error)"
                return text.contains("no configuration in the metadata") && text.contains("encoder.conv0.kernel")
                    && text.contains("CheckpointFormat")
            }
        }
    }
}

/// The `architecture` metadata entry (Keras-side tools write it) is read by
/// the package's one JSON policy: sizes must be integers.
@Suite struct ArchitectureMetadataTests {
    static func file(architecture: String, in directory: URL) throws -> URL {
        let model = try DenoisingAutoencoder(configuration: .init(), seed: 1)
        let url = directory.appendingPathComponent("arch.safetensors")
        try SafetensorsFile(tensors: model.parameters, metadata: ["architecture": architecture]).write(to: url)
        return url
    }

    @Test func integersLoadAndBooleansOrFractionsAreRefused() throws {
        try withTemporaryDirectory { directory in
            let good = #"{"input_shape": [28, 28, 1], "layer_filters": [32, 64], "kernel_size": 3, "strides": 2, "latent_dim": 16, "batch": 2}"#
            #expect(try DenoisingAutoencoder(contentsOf: try Self.file(architecture: good, in: directory)).configuration == .init())
            for (bad, key) in [(good.replacingOccurrences(of: "\"kernel_size\": 3", with: "\"kernel_size\": true"), "kernel_size"),
                               (good.replacingOccurrences(of: "\"latent_dim\": 16", with: "\"latent_dim\": 2.9"), "latent_dim")] {
                let url = try Self.file(architecture: bad, in: directory)
                #expect {
                    _ = try DenoisingAutoencoder(contentsOf: url)
                } throws: { error in
                    "\(error)".contains("metadata 'architecture'") && "\(error)".contains(key)
                }
            }
        }
    }
}
