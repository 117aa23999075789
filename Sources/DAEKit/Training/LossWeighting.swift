import DAELayers

/// How much each training image's squared error counts in the loss that
/// ``DenoisingAutoencoder/fit(_:validation:options:progress:)-2kqu2`` minimizes.
///
/// With blind noise (``NoiseModel/blindGaussian(minStd:maxStd:)``) the plain
/// mean squared error is dominated by the noisiest images: a denoiser's
/// error grows with the noise (about in proportion to its std on
/// photographs), so a patch at σ 50 weighs three to four times as much as
/// one at σ 15, and the model serves light noise worst.
/// ``inverseNoiseStd(reference:floor:)`` divides each image's error by its
/// noise std, so that every level counts about equally in decibels.
///
/// ```swift
/// var options = TrainingOptions(epochs: 32, batchSize: 16, noise: .photoBlind)
/// options.lossWeighting = .photoBalanced   // weight 25/255 ÷ max(σ, 5/255) per patch
/// ```
public enum LossWeighting: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
    /// Every image alike: the mean squared error, as Keras's `mse`.
    case uniform
    /// Image `i`, whose noise std is `σᵢ` (``NoiseModel/drawnStd(using:)``,
    /// in [0, 1] units), counts `reference / max(σᵢ, floor)` times:
    /// 1 at `σᵢ = reference`, more for lighter noise, at most `reference / floor`.
    /// Noise of one std for every image gives every image the same weight.
    case inverseNoiseStd(reference: Float, floor: Float)

    /// `inverseNoiseStd(reference: 25/255, floor: 5/255)`: weight 1 at σ 25,
    /// 5/3 at σ 15, 1/2 at σ 50, at most 5 (σ 5 and below).
    public static let photoBalanced = LossWeighting.inverseNoiseStd(reference: 25 / 255, floor: 5 / 255)

    /// The weight of an image whose noise std is `std`.
    public func weight(noiseStd std: Float) -> Float {
        switch self {
        case .uniform: 1
        case let .inverseNoiseStd(reference, floor): reference / Swift.max(std, floor)
        }
    }

    /// "uniform", or e.g. "inverse noise std (reference 0.098, floor 0.0196)".
    public var description: String {
        switch self {
        case .uniform: "uniform"
        case let .inverseNoiseStd(reference, floor): "inverse noise std (reference \(reference), floor \(floor))"
        }
    }

    /// Throws `DAEError/invalidArgument(_:)` unless `reference` and `floor` are finite and positive.
    public func validate() throws {
        guard case let .inverseNoiseStd(reference, floor) = self else { return }
        guard reference.isFinite, reference > 0, floor.isFinite, floor > 0 else {
            throw DAEError.invalidArgument("inverse-noise-std loss weighting needs a finite, positive reference and floor, "
                + "got \(reference) and \(floor)")
        }
    }
}
