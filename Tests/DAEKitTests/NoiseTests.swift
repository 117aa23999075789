import DAEKit
import DAELayers
import Foundation
import Testing

/// The noise models that make the denoiser's input.
@Suite("Noise models")
struct NoiseTests {
    /// `n` grey pixels of value `value`, as a [n, 1, 1, 1] batch.
    static func grey(_ value: Float, count n: Int = 20_000) -> Tensor {
        Tensor(shape: [n, 1, 1, 1], scalars: Array(repeating: value, count: n))
    }

    /// Mean and population standard deviation.
    static func moments(_ values: [Double]) -> (mean: Double, std: Double) {
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
        return (mean, variance.squareRoot())
    }

    @Test("the same seed gives the same noise; another seed gives other noise")
    func deterministicForASeed() {
        let clean = Self.grey(0.3, count: 500)
        for noise in [NoiseModel.tutorial, .saltAndPepper(amount: 0.3), .masking(fraction: 0.3)] {
            #expect(noise.applied(to: clean, seed: 42) == noise.applied(to: clean, seed: 42), "\(noise)")
            #expect(noise.applied(to: clean, seed: 42) != noise.applied(to: clean, seed: 43), "\(noise)")
        }
    }

    @Test("applying to a buffer with a generator equals applied(to:seed:)")
    func bufferAndTensorAgree() {
        let clean = Self.grey(0.3, count: 100)
        var rng = SplitMix64(seed: UInt64(9))
        var noisy = clean
        NoiseModel.tutorial.apply(to: &noisy, using: &rng)
        #expect(noisy == NoiseModel.tutorial.applied(to: clean, seed: 9))
    }

    @Test("gaussian noise added to mid-grey has the requested mean and std",
          arguments: [(Float(0), Float(0.05)), (0.1, 0.04), (-0.05, 0.02)])
    func gaussianStatistics(mean: Float, std: Float) {
        // Mid-grey 0.5 is more than 9 std from 0 and 1 here, so nothing is clipped.
        let noisy = NoiseModel.gaussian(mean: mean, std: std).applied(to: Self.grey(0.5), seed: 1)
        let added = noisy.scalars.map { Double($0) - 0.5 }
        let (m, s) = Self.moments(added)
        // 20 000 samples: the standard error of the mean is std / 141, of the std about std / 200.
        #expect(abs(m - Double(mean)) < Double(std) * 0.03, "mean \(m)")
        #expect(abs(s / Double(std) - 1) < 0.03, "std \(s)")
    }

    @Test("gaussian noise is clipped to [0, 1]")
    func gaussianClips() {
        let clean = Tensor(shape: [1000], scalars: (0..<1000).map { Float($0) / 999 })
        let noisy = NoiseModel.tutorial.applied(to: clean, seed: 3)
        #expect(noisy.scalars.allSatisfy { (0...1).contains($0) })
        #expect(noisy.scalars.contains(0) && noisy.scalars.contains(1))
    }

    @Test("salt and pepper changes about `amount` of the pixels, half to 0 and half to 1")
    func saltAndPepperFractions() {
        let noisy = NoiseModel.saltAndPepper(amount: 0.2).applied(to: Self.grey(0.5), seed: 5)
        let n = Double(noisy.count)
        let pepper = Double(noisy.scalars.filter { $0 == 0 }.count) / n
        let salt = Double(noisy.scalars.filter { $0 == 1 }.count) / n
        let untouched = Double(noisy.scalars.filter { $0 == 0.5 }.count) / n
        #expect(abs(pepper - 0.1) < 0.01 && abs(salt - 0.1) < 0.01, "pepper \(pepper), salt \(salt)")
        #expect(abs(pepper + salt + untouched - 1) < 1e-12)
    }

    @Test("masking sets about `fraction` of the pixels to 0 and leaves the rest")
    func maskingFraction() {
        let noisy = NoiseModel.masking(fraction: 0.3).applied(to: Self.grey(0.5), seed: 6)
        let masked = Double(noisy.scalars.filter { $0 == 0 }.count) / Double(noisy.count)
        #expect(abs(masked - 0.3) < 0.015, "masked \(masked)")
        #expect(noisy.scalars.allSatisfy { $0 == 0 || $0 == 0.5 })
    }

    @Test("the extreme probabilities 0 and 1 do what they say")
    func extremeProbabilities() {
        let clean = Self.grey(0.5, count: 1000)
        #expect(NoiseModel.masking(fraction: 0).applied(to: clean, seed: 1) == clean)
        #expect(NoiseModel.masking(fraction: 1).applied(to: clean, seed: 1).scalars.allSatisfy { $0 == 0 })
        #expect(NoiseModel.saltAndPepper(amount: 1).applied(to: clean, seed: 1).scalars.allSatisfy { $0 == 0 || $0 == 1 })
        #expect(NoiseModel.gaussian(mean: 0, std: 0).applied(to: clean, seed: 1) == clean)
    }

    @Test("invalid parameters are refused by validate()", arguments: [
        NoiseModel.gaussian(mean: 0.5, std: -0.1), .gaussian(mean: .nan, std: 0.5), .gaussian(mean: 0, std: .infinity),
        .saltAndPepper(amount: 1.5), .saltAndPepper(amount: -0.01), .masking(fraction: .nan), .masking(fraction: 2),
    ])
    func invalidParametersThrow(_ noise: NoiseModel) {
        let error = #expect(throws: DAEError.self) { try noise.validate() }
        #expect(error?.description.hasPrefix("invalid argument: ") == true)
    }

    @Test("valid parameters pass validate()")
    func validParametersPass() throws {
        for noise in [NoiseModel.tutorial, .gaussian(mean: -1, std: 0), .saltAndPepper(amount: 0), .masking(fraction: 1)] {
            try noise.validate()
        }
    }

    @Test("descriptions and JSON round trip")
    func descriptionsAndCodable() throws {
        #expect(NoiseModel.tutorial.description == "gaussian mean 0.5 std 0.5")
        #expect(NoiseModel.saltAndPepper(amount: 0.1).description == "salt-and-pepper amount 0.1")
        #expect(NoiseModel.masking(fraction: 0.25).description == "masking fraction 0.25")
        let models = [NoiseModel.tutorial, .saltAndPepper(amount: 0.1), .masking(fraction: 0.25)]
        let decoded = try JSONDecoder().decode([NoiseModel].self, from: JSONEncoder().encode(models))
        #expect(decoded == models)
    }
}
