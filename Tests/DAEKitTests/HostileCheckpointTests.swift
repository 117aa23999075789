import DAEFiles
import DAEKit
import Foundation
import Testing

/// A checkpoint is read from a file that may be hostile: a few hundred bytes
/// whose metadata claims an enormous model must be rejected before the
/// model's weights are allocated (it used to abort the process with
/// "failed to allocate 12544000000000032 bytes"; found by review while
/// writing the fuzz targets, see Docs/Reliability.md).
@Suite struct HostileCheckpointTests {
    /// A safetensors file in `directory` with no tensors and `configuration` in its metadata.
    private func checkpoint(configuration: String, in directory: URL) throws -> URL {
        let url = directory.appendingPathComponent("hostile.safetensors")
        try SafetensorsFile(metadata: ["format": "DAEKit checkpoint", "format_version": "1",
                                       "configuration": configuration]).write(to: url)
        return url
    }

    private static let optimizer = #""optimizer":{"beta1":0.9,"beta2":0.999,"epsilon":1e-07,"learningRate":0.001}"#

    @Test("a tiny file claiming a huge model is rejected before allocating it", arguments: [
        // latentDim 10^12: the dense kernels alone would be 25 PB.
        #"{"inputShape":[28,28,1],"kernelSize":3,"latentDim":1000000000000,"layerFilters":[32,64],"stride":2,\#(optimizer)}"#,
        // 2·10^8 latent units: 2.5 TB of weights.
        #"{"inputShape":[28,28,1],"kernelSize":3,"latentDim":200000000,"layerFilters":[32,64],"stride":2,\#(optimizer)}"#,
        // 2^40 filters: the weight count overflows Int.
        #"{"inputShape":[28,28,1],"kernelSize":3,"latentDim":16,"layerFilters":[1099511627776,64],"stride":2,\#(optimizer)}"#,
        // A huge kernel.
        #"{"inputShape":[28,28,1],"kernelSize":4000001,"latentDim":16,"layerFilters":[32,64],"stride":2,\#(optimizer)}"#,
    ])
    func hugeConfigurationIsRejected(_ configuration: String) throws {
        try withTemporaryDirectory("dae-hostile") { directory in
            let url = try checkpoint(configuration: configuration, in: directory)
            #expect(try Data(contentsOf: url).count < 1000)
            #expect {
                _ = try DenoisingAutoencoder(contentsOf: url)
            } throws: { error in
                guard case DAEError.corruptFile(let path, let reason) = error else { return false }
                // Refused by the size limits of any configuration, or by the weight count the file cannot hold.
                return path == url.path && (reason.contains("cannot be built") && reason.contains("the limit is")
                    || reason.contains("weights but the file holds only 0 tensor elements"))
            }
        }
    }

    @Test("the weight count computed from a configuration equals the built model's", arguments: [
        DenoisingAutoencoder.Configuration(),
        DenoisingAutoencoder.Configuration(inputShape: [32, 24, 3], layerFilters: [8, 16, 4], kernelSize: 5, latentDim: 7),
        DenoisingAutoencoder.Configuration(inputShape: [28, 28, 1], layerFilters: [4], kernelSize: 1, latentDim: 2),
    ])
    func weightCountMatches(_ configuration: DenoisingAutoencoder.Configuration) throws {
        let model = try DenoisingAutoencoder(configuration: configuration, seed: 1)
        try withTemporaryDirectory("dae-count") { directory in
            // A weights-only file holds exactly the parameters: it must still load.
            let url = directory.appendingPathComponent("weights.safetensors")
            let encoded = String(decoding: try JSONEncoder().encode(configuration), as: UTF8.self)
            try SafetensorsFile(tensors: model.parameters, metadata: ["configuration": encoded]).write(to: url)
            let loaded = try DenoisingAutoencoder(contentsOf: url)
            #expect(loaded.parameters == model.parameters)
            // One element fewer than the weights: rejected by the size check, naming the count.
            var short = model.parameters
            short["decoder.output.bias"] = Tensor(zeros: [0])
            try SafetensorsFile(tensors: short, metadata: ["configuration": encoded]).write(to: url)
            #expect {
                _ = try DenoisingAutoencoder(contentsOf: url)
            } throws: { error in
                "\(error)".contains("needs \(model.parameterCount) weights")
            }
        }
    }
}
