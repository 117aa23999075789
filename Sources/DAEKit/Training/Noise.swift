import DAELayers

/// How clean images are corrupted to make the denoiser's input.
///
/// Every model works on pixels in [0, 1] and keeps them there. Noise is
/// drawn from a `SplitMix64` generator, so a seed gives the same noisy
/// images on every machine.
///
/// ```swift
/// let noisy = NoiseModel.tutorial.applied(to: clean, seed: 7)   // clip(x + N(0.5, 0.5), 0, 1)
/// var rng = SplitMix64(seed: 7)
/// NoiseModel.saltAndPepper(amount: 0.1).apply(to: buffer, using: &rng)   // in place
/// ```
public enum NoiseModel: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
    /// `clip(x + N(mean, std), 0, 1)`: additive Gaussian noise, clipped to [0, 1].
    case gaussian(mean: Float, std: Float)
    /// Each pixel, with probability `amount`, becomes 0 or 1 with equal odds.
    case saltAndPepper(amount: Float)
    /// Each pixel, with probability `fraction`, is set to 0.
    case masking(fraction: Float)
    /// Blind training noise for photographs: zero-mean Gaussian whose std is
    /// drawn uniformly from `minStd...maxStd` once per image (patch), then
    /// `clip(x + N(0, std), 0, 1)`; one model then serves every level in the range.
    case blindGaussian(minStd: Float, maxStd: Float)

    /// The Keras tutorial's noise: `clip(x + N(0.5, 0.5), 0, 1)`.
    public static let tutorial = NoiseModel.gaussian(mean: 0.5, std: 0.5)

    /// The photo preset's blind training noise: std uniform in 0…55/255 per patch.
    public static let photoBlind = NoiseModel.blindGaussian(minStd: 0, maxStd: 55 / 255)

    /// Zero-mean Gaussian noise of `std` in [0, 1] units, as photographs are
    /// corrupted (`std 25/255 ≈ 0.098` is the classic benchmark level).
    public static func photo(std: Float) -> NoiseModel { .gaussian(mean: 0, std: std) }

    /// A one-line description such as "gaussian mean 0.5 std 0.5".
    public var description: String {
        switch self {
        case let .gaussian(mean, std): return "gaussian mean \(mean) std \(std)"
        case let .saltAndPepper(amount): return "salt-and-pepper amount \(amount)"
        case let .masking(fraction): return "masking fraction \(fraction)"
        case let .blindGaussian(minStd, maxStd): return "blind gaussian std \(minStd)...\(maxStd)"
        }
    }

    /// Checks the parameters: finite numbers, `std >= 0`, probabilities in [0, 1].
    ///
    /// - Throws: `DAEError/invalidArgument(_:)` naming the parameter and its value.
    public func validate() throws {
        switch self {
        case let .gaussian(mean, std):
            guard mean.isFinite else { throw DAEError.invalidArgument("gaussian noise mean must be finite, got \(mean)") }
            guard std.isFinite, std >= 0 else {
                throw DAEError.invalidArgument("gaussian noise std must be finite and >= 0, got \(std)")
            }
        case let .saltAndPepper(amount):
            guard amount.isFinite, (0...1).contains(amount) else {
                throw DAEError.invalidArgument("salt-and-pepper amount must be in [0, 1], got \(amount)")
            }
        case let .masking(fraction):
            guard fraction.isFinite, (0...1).contains(fraction) else {
                throw DAEError.invalidArgument("masking fraction must be in [0, 1], got \(fraction)")
            }
        case let .blindGaussian(minStd, maxStd):
            guard minStd.isFinite, maxStd.isFinite, minStd >= 0, minStd <= maxStd else {
                throw DAEError.invalidArgument("blind gaussian std range must satisfy 0 <= min <= max (finite), got \(minStd)...\(maxStd)")
            }
        }
    }

    /// Corrupts `pixels` in place, drawing from `rng`; allocates nothing.
    ///
    /// Gaussian noise is drawn and added in `Double` (as NumPy's
    /// `x + rng.normal(...)` is) and rounded to `Float` after clipping; each
    /// pair of pixels uses both samples of one Box–Muller transform
    /// (`SplitMix64.nextGaussianPair()`); blind Gaussian noise first draws
    /// its std (one uniform draw). The other models consume one
    /// uniform draw per pixel. Draws are taken in pixel order, so the result
    /// depends only on the generator's state. Invalid parameters (see
    /// ``validate()``) do not crash, but their result is unspecified.
    public func apply(to pixels: UnsafeMutableBufferPointer<Float>, using rng: inout SplitMix64) {
        switch self {
        case let .gaussian(mean, std):
            Self.addGaussian(to: pixels, mean: Double(mean), std: Double(std), using: &rng)
        case .blindGaussian:
            let std = drawnStd(using: &rng)
            Self.addGaussian(to: pixels, mean: 0, std: std, using: &rng)
        case let .saltAndPepper(amount):
            let threshold = Double(amount), half = Double(amount) / 2
            for i in pixels.indices {
                let u = rng.nextUniform()
                // One draw decides both: u < amount/2 is pepper (0), amount/2 <= u < amount is salt (1).
                if u < threshold { pixels[i] = u < half ? 0 : 1 }
            }
        case let .masking(fraction):
            let threshold = Double(fraction)
            for i in pixels.indices where rng.nextUniform() < threshold {
                pixels[i] = 0
            }
        }
    }

    /// The noise std that `apply(to:using:)` adds with a generator in
    /// `rng`'s state (its first draw for blind Gaussian noise, which
    /// `rng` is advanced past), in [0, 1] units: what a noise-level map
    /// holds. Salt-and-pepper and masking noise have no std: 0.
    public func drawnStd(using rng: inout SplitMix64) -> Double {
        switch self {
        case let .gaussian(_, std): return Double(std)
        case let .blindGaussian(minStd, maxStd): return Double(minStd) + Double(maxStd - minStd) * rng.nextUniform()
        case .saltAndPepper, .masking: return 0
        }
    }

    /// `clip(x + N(mean, std), 0, 1)` for every pixel, in `Double`, two pixels per Box–Muller pair.
    private static func addGaussian(to pixels: UnsafeMutableBufferPointer<Float>, mean: Double, std: Double,
                                    using rng: inout SplitMix64) {
        func corrupt(_ i: Int, _ z: Double) {
            pixels[i] = Float(Swift.min(Swift.max(Double(pixels[i]) + mean + std * z, 0), 1))
        }
        var i = pixels.startIndex
        while i + 1 < pixels.endIndex {
            let (z0, z1) = rng.nextGaussianPair()
            corrupt(i, z0)
            corrupt(i + 1, z1)
            i += 2
        }
        if i < pixels.endIndex { corrupt(i, rng.nextGaussian()) }
    }

    /// Corrupts `tensor` in place, drawing from `rng`.
    public func apply(to tensor: inout Tensor, using rng: inout SplitMix64) {
        tensor.withUnsafeMutableBufferPointer { apply(to: $0, using: &rng) }
    }

    /// A noisy copy of `tensor`, with a generator seeded by `seed`.
    public func applied(to tensor: Tensor, seed: some BinaryInteger) -> Tensor {
        var rng = SplitMix64(seed: seed)
        var copy = tensor
        apply(to: &copy, using: &rng)
        return copy
    }
}
