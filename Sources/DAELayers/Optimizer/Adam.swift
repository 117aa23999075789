import Foundation

/// Adam exactly as Keras 3 computes it, with its state kept per parameter.
///
/// At step `t` (from 1), for a weight `w` with gradient `g`:
///
///     m ← m + (g − m)·(1 − β₁)
///     v ← v + (g² − v)·(1 − β₂)
///     α = lr · sqrt(1 − β₂ᵗ) / (1 − β₁ᵗ)
///     w ← w − α·m / (sqrt(v) + ε)
///
/// ε is added to `sqrt(v)` *before* bias correction (Keras's convention,
/// not the paper's or PyTorch's, which add it to `sqrt(v̂)`); the bias
/// correction is folded into the step size α. At step 1 this moves each
/// weight by `lr·g / (|g| + ε/sqrt(1 − β₂))`. A zero gradient moves nothing.
public struct Adam: Sendable, Equatable {
    /// The hyper-parameters; Keras's defaults.
    public struct Settings: Sendable, Equatable, Hashable, Codable {
        public var learningRate: Float
        public var beta1: Float
        public var beta2: Float
        public var epsilon: Float

        /// Keras's defaults: lr 0.001, β₁ 0.9, β₂ 0.999, ε 1e-7.
        public init(learningRate: Float = 0.001, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-7) {
            self.learningRate = learningRate
            self.beta1 = beta1
            self.beta2 = beta2
            self.epsilon = epsilon
        }

        /// Throws unless every value is finite, the rate positive, the betas in [0, 1) and ε ≥ 0.
        public func validate() throws {
            guard learningRate.isFinite, learningRate > 0 else {
                throw DAEError.invalidConfiguration("learning rate \(learningRate) must be positive and finite")
            }
            guard beta1 >= 0, beta1 < 1, beta2 >= 0, beta2 < 1 else {
                throw DAEError.invalidConfiguration("Adam betas (\(beta1), \(beta2)) must lie in [0, 1)")
            }
            guard epsilon.isFinite, epsilon >= 0 else {
                throw DAEError.invalidConfiguration("Adam epsilon \(epsilon) must be finite and non-negative")
            }
        }
    }

    public var settings: Settings
    /// Steps taken so far.
    public private(set) var step: Int
    /// First moments by parameter name.
    public private(set) var firstMoments: [String: Tensor]
    /// Second moments by parameter name.
    public private(set) var secondMoments: [String: Tensor]

    /// A fresh optimizer with zero moments.
    public init(settings: Settings = Settings()) {
        self.settings = settings
        self.step = 0
        self.firstMoments = [:]
        self.secondMoments = [:]
    }

    /// The largest step count a resumed optimizer accepts: 2⁵³ (exact as a
    /// `Double`, and so far beyond any real run that a larger one is damage).
    public static let maximumStep = 1 << 53

    /// An optimizer resumed from saved state; every name needs both moments
    /// of the same shape, the first moments finite and the second finite and
    /// non-negative (they are running means of squares), and the step in
    /// `0...maximumStep`. Each problem throws ``DAEError/invalidArgument(_:)`` naming the tensor.
    public init(settings: Settings, step: Int, firstMoments: [String: Tensor], secondMoments: [String: Tensor]) throws {
        guard step >= 0 else { throw DAEError.invalidArgument("Adam step \(step) is negative") }
        guard step <= Self.maximumStep else {
            throw DAEError.invalidArgument("Adam step \(step) exceeds the limit of \(Self.maximumStep) steps")
        }
        guard Set(firstMoments.keys) == Set(secondMoments.keys) else {
            throw DAEError.invalidArgument("Adam state: first and second moments name different parameters")
        }
        for (name, m) in firstMoments {
            try secondMoments[name]?.checkShape(m.shape, "Adam second moment of \(name)")
            if let index = m.scalars.firstIndex(where: { !$0.isFinite }) {
                throw DAEError.invalidArgument("Adam first moment of '\(name)' holds \(m.scalars[index]) at element \(index)")
            }
        }
        for (name, v) in secondMoments {
            if let index = v.scalars.firstIndex(where: { !$0.isFinite || $0 < 0 }) {
                throw DAEError.invalidArgument("Adam second moment of '\(name)' holds \(v.scalars[index]) at element \(index) "
                    + "(it must be finite and non-negative)")
            }
        }
        self.settings = settings
        self.step = step
        self.firstMoments = firstMoments
        self.secondMoments = secondMoments
    }

    /// Starts a new step: advances the step count and returns its step size α.
    public mutating func beginStep() -> Float {
        step += 1
        let t = Float(step)
        return settings.learningRate * (1 - Foundation.pow(settings.beta2, t)).squareRoot()
            / (1 - Foundation.pow(settings.beta1, t))
    }

    /// Updates `weights` in place from `gradient` with step size `alpha` (from ``beginStep()``).
    public mutating func update(_ name: String, weights: inout Tensor, gradient: UnsafePointer<Float>, alpha: Float) {
        let count = weights.count
        if firstMoments[name]?.count != count {
            firstMoments[name] = Tensor(zeros: weights.shape)
            secondMoments[name] = Tensor(zeros: weights.shape)
        }
        let (b1, b2, epsilon) = (settings.beta1, settings.beta2, settings.epsilon)
        weights.withUnsafeMutableBufferPointer { w in
            firstMoments[name]!.withUnsafeMutableBufferPointer { m in
                secondMoments[name]!.withUnsafeMutableBufferPointer { v in
                    VectorKernels.adamStep(weights: w.baseAddress!, firstMoments: m.baseAddress!,
                                           secondMoments: v.baseAddress!, gradient: gradient, count: count,
                                           beta1: b1, beta2: b2, epsilon: epsilon, alpha: alpha)
                }
            }
        }
    }
}
