import DAEFiles
import DAEKit
import DAETestSupport
import Foundation
import Testing

/// Keras parity through the public API only: the calls an embedding
/// package makes reproduce a real Keras model's numbers
/// (the committed fixture `Tests/Fixtures/keras-ref-small-gray.safetensors`,
/// TensorFlow 2.21 / Keras 3.15, float32; a missing fixture fails).
@Suite struct PublicAPIParityTests {
    let url = ReferenceVectors.smallGray
    let reference: SafetensorsFile

    init() throws {
        reference = try SafetensorsFile(contentsOf: url)
    }

    func expected(_ name: String) throws -> Tensor {
        try #require(reference.tensors[name], "reference file lacks \(name)")
    }

    /// Largest |a − b| relative to the reference tensor's largest magnitude.
    func relativeDifference(_ actual: Tensor, _ expected: Tensor) -> Float {
        zip(actual.scalars, expected.scalars).map { abs($0 - $1) }.max().map { $0 / max(expected.maxAbs, 1e-30) } ?? 0
    }

    /// A model built from the file's `architecture` metadata, then loaded with `loadWeights`.
    func model() throws -> DenoisingAutoencoder {
        let loaded = try DenoisingAutoencoder(contentsOf: url)   // configuration from the metadata
        var model = try DenoisingAutoencoder(configuration: loaded.configuration, seed: 1)
        try model.loadWeights(from: url)
        model.workers = 1
        return model
    }

    @Test func encodeAndDenoiseMatchKerasActivations() throws {
        let model = try model()
        let noisy = try expected("input.noisy")
        let latentSpace = try #require(model.latentSpace)
        let latent = try latentSpace.encode(noisy)
        try latent.checkShape(try expected("act.encoder.latent").shape, "latent")
        #expect(relativeDifference(latent, try expected("act.encoder.latent")) < 1e-5)
        let denoised = try model.denoise(noisy)
        #expect(relativeDifference(denoised, try expected("act.decoder.output")) < 1e-5)
        let decoded = try latentSpace.decode(latent)
        #expect(relativeDifference(decoded, try expected("act.decoder.output")) < 1e-5)
    }

    @Test func lossAndGradientsMatchKeras() throws {
        var model = try model()
        let (loss, gradients) = try model.lossAndGradients(noisy: try expected("input.noisy"), clean: try expected("input.clean"))
        let kerasLoss = try expected("loss").scalars[0]
        #expect(abs(loss - kerasLoss) <= 1e-6 * kerasLoss, "loss \(loss) vs Keras \(kerasLoss)")
        #expect(Set(gradients.keys) == Set(model.parameterNames))
        for name in model.parameterNames {
            let gradient = try #require(gradients[name])
            let difference = relativeDifference(gradient, try expected("grad.\(name)"))
            #expect(difference < 1e-4, "gradient of \(name) differs by \(difference) of its largest magnitude")
        }
    }

    @Test func oneTrainStepMatchesKerasAdam() throws {
        var model = try model()
        let lossBefore = try model.trainStep(noisy: try expected("input.noisy"), clean: try expected("input.clean"))
        #expect(abs(lossBefore - (try expected("loss").scalars[0])) < 1e-6)
        for (name, weights) in model.parameters {
            let keras = try expected("adam1.\(name)")
            let worst = zip(weights.scalars, keras.scalars).map { abs($0 - $1) }.max() ?? 0
            #expect(worst <= 1e-6, "\(name) after one Adam step differs by \(worst)")
        }
    }

    @Test func twoWorkersAgreeWithOne() throws {
        var one = try model()
        var two = try model()
        two.workers = 2
        let noisy = try expected("input.noisy"), clean = try expected("input.clean")
        let a = try one.lossAndGradients(noisy: noisy, clean: clean)
        let b = try two.lossAndGradients(noisy: noisy, clean: clean)
        #expect(abs(a.loss - b.loss) <= 1e-7)
        for name in one.parameterNames {
            #expect(relativeDifference(b.gradients[name]!, a.gradients[name]!) < 1e-5, "\(name)")
        }
    }
}
