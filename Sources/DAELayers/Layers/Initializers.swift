/// Weight initialisers, deterministic from a seeded ``SplitMix64``.
public enum Initializer {
    /// Glorot (Xavier) uniform, Keras's default kernel initialiser:
    /// `U(−limit, limit)` with `limit = sqrt(6 / (fanIn + fanOut))`.
    ///
    /// For a kernel `[kh, kw, a, b]` the fans are `kh·kw·a` and `kh·kw·b`
    /// (Keras's rule: the last two dimensions are in and out, the leading
    /// ones the receptive field); for a matrix `[in, out]` they are `in`, `out`.
    public static func glorotUniform(shape: [Int], using rng: inout SplitMix64) -> Tensor {
        let receptiveField = shape.dropLast(2).reduce(1, *)
        let fanIn = shape.count >= 2 ? shape[shape.count - 2] * receptiveField : (shape.first ?? 1)
        let fanOut = shape.count >= 2 ? shape[shape.count - 1] * receptiveField : (shape.first ?? 1)
        return uniform(shape: shape, limit: (6 / Double(max(fanIn + fanOut, 1))).squareRoot(), using: &rng)
    }

    /// `U(−limit, limit)` for every element, drawn in order.
    static func uniform(shape: [Int], limit: Double, using rng: inout SplitMix64) -> Tensor {
        let count = Tensor.elementCount(of: shape)
        var scalars = [Float](repeating: 0, count: count)
        for i in 0..<count {
            scalars[i] = Float((2 * rng.nextUniform() - 1) * limit)
        }
        return Tensor(shape: shape, scalars: scalars)
    }

    /// He (Kaiming) uniform, Keras's `he_uniform`: `U(−limit, limit)` with
    /// `limit = sqrt(6 / fanIn)`. It keeps the variance of activations
    /// through ReLU layers, where Glorot's halves it at each one: a stack of
    /// a dozen ReLU convolutions without normalisation starts with outputs
    /// 2⁻⁶ as large and barely trains.
    public static func heUniform(shape: [Int], using rng: inout SplitMix64) -> Tensor {
        let receptiveField = shape.dropLast(2).reduce(1, *)
        let fanIn = shape.count >= 2 ? shape[shape.count - 2] * receptiveField : (shape.first ?? 1)
        return uniform(shape: shape, limit: (6 / Double(max(fanIn, 1))).squareRoot(), using: &rng)
    }
}

/// How a layer's kernel is drawn, by Keras's name for it.
public enum KernelInitializer: String, Sendable, Codable, CaseIterable {
    /// ``Initializer/glorotUniform(shape:using:)``, Keras's default.
    case glorotUniform = "glorot_uniform"
    /// ``Initializer/heUniform(shape:using:)``, for deep ReLU stacks.
    case heUniform = "he_uniform"

    /// A kernel of `shape` drawn from `rng`.
    public func kernel(shape: [Int], using rng: inout SplitMix64) -> Tensor {
        switch self {
        case .glorotUniform: Initializer.glorotUniform(shape: shape, using: &rng)
        case .heUniform: Initializer.heUniform(shape: shape, using: &rng)
        }
    }
}
