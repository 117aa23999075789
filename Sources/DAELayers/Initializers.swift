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
        let limit = (6 / Double(max(fanIn + fanOut, 1))).squareRoot()
        let count = Tensor.elementCount(of: shape)
        var scalars = [Float](repeating: 0, count: count)
        for i in 0..<count {
            scalars[i] = Float((2 * rng.nextUniform() - 1) * limit)
        }
        return Tensor(shape: shape, scalars: scalars)
    }
}
