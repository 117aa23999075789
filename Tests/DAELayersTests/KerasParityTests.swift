import DAEFiles
import DAELayers
import DAETestSupport
import Foundation
import Testing

/// Layer-by-layer parity with a real Keras model: activations, loss,
/// gradients and one Adam step, from the reference files in `Tests/Fixtures`
/// (written by `Tests/Fixtures/make_keras_reference.py` with TensorFlow +
/// Keras; a missing one fails the test).
///
/// Everything is derived from the file: the architecture from its metadata,
/// the weights by their Keras names, the batch from `input.noisy`, and the
/// list of activations and gradients from the names present. Any
/// `keras-ref-*.safetensors` of that form is checked by the same code.
@Suite("Keras reference parity")
struct KerasParityTests {
    /// The `architecture` metadata entry: the denoising autoencoder's hyper-parameters.
    struct Architecture: Decodable {
        let inputShape: [Int]
        let layerFilters: [Int]
        let kernelSize: Int
        let strides: Int
        let latentDim: Int

        enum CodingKeys: String, CodingKey {
            case inputShape = "input_shape", layerFilters = "layer_filters", kernelSize = "kernel_size"
            case strides, latentDim = "latent_dim"
        }
    }

    /// The autoencoder of `architecture`, with Glorot weights that the test replaces by the file's:
    ///
    /// encoder: Conv2D(f, stride, same, relu) per filter entry → Flatten → Dense(latent);
    /// decoder: Dense(h·w·c) → Reshape → Conv2DTranspose(f, stride, same, relu) per entry, reversed
    ///          → Conv2DTranspose(channels, stride 1, same, sigmoid).
    static func buildAutoencoder(_ a: Architecture) throws -> Sequential {
        var rng = SplitMix64(seed: 0)
        var layers: [any Layer] = []
        var shape = a.inputShape
        for (i, filters) in a.layerFilters.enumerated() {
            let conv = try Conv2D(name: "encoder.conv\(i)", inputShape: shape, filters: filters, kernelSize: a.kernelSize,
                                  stride: a.strides, padding: .same, activation: .relu, using: &rng)
            layers.append(conv)
            shape = conv.outputShape
        }
        let mapShape = shape
        let flatten = try Reshape.flatten(name: "encoder.flatten", inputShape: mapShape)
        layers.append(flatten)
        layers.append(try Dense(name: "encoder.latent", inputFeatures: flatten.outputCount, units: a.latentDim, using: &rng))
        layers.append(try Dense(name: "decoder.dense", inputFeatures: a.latentDim, units: flatten.outputCount, using: &rng))
        layers.append(try Reshape(name: "decoder.reshape", inputShape: [flatten.outputCount], outputShape: mapShape))
        for (i, filters) in a.layerFilters.reversed().enumerated() {
            let deconv = try Conv2DTranspose(name: "decoder.deconv\(i)", inputShape: shape, filters: filters,
                                             kernelSize: a.kernelSize, stride: a.strides, padding: .same,
                                             activation: .relu, using: &rng)
            layers.append(deconv)
            shape = deconv.outputShape
        }
        layers.append(try Conv2DTranspose(name: "decoder.output", inputShape: shape, filters: a.inputShape[2],
                                          kernelSize: a.kernelSize, stride: 1, padding: .same,
                                          activation: .sigmoid, using: &rng))
        return try Sequential(layers)
    }

    /// One line of the printed table: what was compared, how far apart, against which bound.
    struct Row {
        let name: String, shape: [Int], maxReference: Double, maxDifference: Double, bound: Double
        var passed: Bool { maxDifference <= bound }
    }

    /// Compares `actual` with the reference tensor and records a row and, if it fails, an issue.
    static func compare(_ name: String, _ actual: Tensor, _ reference: Tensor, relative: Double, absolute: Double,
                        into rows: inout [Row], sourceLocation: SourceLocation = #_sourceLocation) {
        let bound = absolute + relative * Double(reference.maxAbs)
        let difference = actual.shape == reference.shape ? maxAbsDifference(actual, reference) : .infinity
        rows.append(Row(name: name, shape: reference.shape, maxReference: Double(reference.maxAbs),
                        maxDifference: difference, bound: bound))
        #expect(actual.shape == reference.shape, "\(name): shape \(actual.shape) vs reference \(reference.shape)", sourceLocation: sourceLocation)
        #expect(difference <= bound, "\(name): max |difference| \(difference) > \(bound)", sourceLocation: sourceLocation)
    }

    static func printTable(_ rows: [Row], file: String) {
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
        func e(_ x: Double) -> String { String(format: "%.2e", x) }
        var lines = ["Keras parity, \(file):", pad("tensor", 30) + pad("shape", 16) + pad("max|ref|", 10) + pad("max|diff|", 10) + "bound"]
        for r in rows {
            lines.append(pad(r.name, 30) + pad("\(r.shape)", 16) + pad(e(r.maxReference), 10) + pad(e(r.maxDifference), 10)
                         + e(r.bound) + (r.passed ? "" : "  FAIL"))
        }
        print(lines.joined(separator: "\n"))
    }

    /// The committed fixtures, then any larger reference file of the workspace.
    static let referenceFiles = ReferenceVectors.fixtures + ReferenceVectors.workspaceFiles

    @Test("every committed fixture is present (regenerate with Tests/Fixtures/make_keras_reference.py)")
    func fixturesArePresent() {
        for url in ReferenceVectors.fixtures {
            #expect(ReferenceVectors.exists(url), "missing Keras fixture \(url.path)")
        }
    }

    @Test("activations, loss, gradients and one Adam step match Keras", arguments: referenceFiles)
    func parity(_ url: URL) throws {
        let file = try SafetensorsFile(contentsOf: url)
        func tensor(_ name: String) throws -> Tensor { try file.tensor(named: name, path: url.lastPathComponent) }
        let json = try #require(file.metadata["architecture"], "the file has no `architecture` metadata")
        let architecture = try JSONDecoder().decode(Architecture.self, from: Data(json.utf8))

        // Build the model from the metadata and load every weight by its Keras name.
        var network = try Self.buildAutoencoder(architecture)
        for name in network.parameterNames { try network.setParameter(name, to: try tensor(name)) }
        let prefixes = ["input.", "act.", "grad.", "adam1."]
        let unusedWeights = Set(file.tensors.keys).subtracting(network.parameterNames)
            .filter { name in name != "loss" && !prefixes.contains { name.hasPrefix($0) } }
        #expect(unusedWeights.isEmpty, "weights in the file that the model does not have: \(unusedWeights.sorted())")

        let noisy = try tensor("input.noisy"), clean = try tensor("input.clean")
        let batch = noisy.shape[0]
        var rows: [Row] = []
        defer { Self.printTable(rows, file: url.lastPathComponent) }

        // Every activation `act.<layer>` against that layer's output, one layer at a time.
        var x = noisy
        var checkedActivations: Set<String> = []
        for layer in network.layers {
            x = try layer(x)
            guard let reference = file.tensors["act.\(layer.name)"] else { continue }
            Self.compare("act.\(layer.name)", x, reference, relative: 1e-5, absolute: 1e-6, into: &rows)
            checkedActivations.insert("act.\(layer.name)")
        }
        let activationNames = Set(file.tensors.keys.filter { $0.hasPrefix("act.") })
        #expect(checkedActivations == activationNames, "activations without a layer: \(activationNames.subtracting(checkedActivations).sorted())")
        #expect(!checkedActivations.isEmpty)

        // The loss and every gradient, from the data-parallel engine (two workers: one image each).
        let referenceLoss = Double(try tensor("loss").scalars[0])
        for workers in [1, 2] {
            let (loss, gradients) = try engineLossAndGradients(network: network, input: noisy, target: clean, workers: min(workers, batch))
            #expect(abs(Double(loss) - referenceLoss) <= 1e-6 * referenceLoss, "\(workers) worker(s): loss \(loss) vs Keras \(referenceLoss)")
            if workers == 1 {
                rows.append(Row(name: "loss", shape: [], maxReference: referenceLoss, maxDifference: abs(Double(loss) - referenceLoss),
                                bound: 1e-6 * referenceLoss))
            }
            for name in network.parameterNames {
                let actual = try #require(gradients[name])
                if workers == 1 {
                    Self.compare("grad.\(name)", actual, try tensor("grad.\(name)"), relative: 1e-4, absolute: 0, into: &rows)
                } else {
                    expectApproximatelyEqual(actual, try tensor("grad.\(name)"), relativeTolerance: 1e-4, "\(workers) workers: grad.\(name)")
                }
            }
        }
        // The loss is the mean squared difference of the reconstruction and the clean images.
        let mse = try MeanSquaredError.loss(try tensor("act.decoder.output"), clean)
        #expect(abs(Double(mse) - referenceLoss) <= 1e-6 * referenceLoss)

        // One Adam step with Keras's defaults, from the stored weights and gradients.
        var adam = Adam()
        let alpha = adam.beginStep()
        for name in network.parameterNames {
            var weights = try tensor(name)
            let gradient = try tensor("grad.\(name)")
            gradient.withUnsafeBufferPointer { adam.update(name, weights: &weights, gradient: $0.baseAddress!, alpha: alpha) }
            Self.compare("adam1.\(name)", weights, try tensor("adam1.\(name)"), relative: 0, absolute: 1e-6, into: &rows)
        }
    }
}
