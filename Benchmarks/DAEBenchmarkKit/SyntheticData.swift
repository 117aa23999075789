import DAEKit

/// Deterministic random inputs for the benchmarks: the values do not change
/// the speed of dense float code, but they must be normal numbers (zeros
/// could take fast paths, denormals slow ones).
public enum SyntheticData {
    /// `count` floats uniform in `range`.
    public static func floats(_ count: Int, in range: ClosedRange<Float> = -1...1,
                              using rng: inout SplitMix64) -> [Float] {
        let width = Double(range.upperBound - range.lowerBound)
        return (0..<count).map { _ in range.lowerBound + Float(rng.nextUniform() * width) }
    }

    /// A tensor of `shape` with values uniform in `range`.
    public static func tensor(_ shape: [Int], in range: ClosedRange<Float> = -1...1,
                              using rng: inout SplitMix64) -> Tensor {
        Tensor(shape: shape, scalars: floats(Tensor.elementCount(of: shape), in: range, using: &rng))
    }

    /// `count` random byte images of `shape` `[height, width, channels]`, as a
    /// data set kept in bytes like Fashion-MNIST (so `fit` pays the same
    /// byte-to-float conversion it pays on real data).
    public static func images(count: Int, shape: [Int], using rng: inout SplitMix64) throws -> ImageDataset {
        let size = count * Tensor.elementCount(of: shape)
        var pixels = [UInt8](repeating: 0, count: size)
        for i in 0..<size { pixels[i] = UInt8(truncatingIfNeeded: rng.next() >> 56) }
        return try ImageDataset(pixels: pixels, count: count, height: shape[0], width: shape[1], channels: shape[2])
    }
}

/// Runs `body` with OpenBLAS set to `threads` threads, then restores the previous count.
public func withBLASThreads<Result>(_ threads: Int, _ body: () throws -> Result) rethrows -> Result {
    let previous = BLAS.threads
    BLAS.threads = threads
    defer { BLAS.threads = previous }
    return try body()
}

/// Floating-point operations of one GEMM `[m, k] × [k, n]`: `2·m·n·k`.
public func gemmFlops(m: Int, n: Int, k: Int) -> Double {
    2 * Double(m) * Double(n) * Double(k)
}

/// GFLOP/s of `flops` done in `seconds`.
public func gigaflops(_ flops: Double, seconds: Double) -> Double {
    seconds > 0 ? flops / seconds / 1e9 : .nan
}
