import Foundation

/// SplitMix64 (Steele, Lea and Flood, 2014): a tiny, fast, seedable
/// generator with a 64-bit state. The same seed gives the same stream on
/// every machine, which makes weights, noise and shuffles reproducible.
///
/// ```swift
/// var rng = SplitMix64(seed: 42)
/// let u = rng.nextUniform()          // in [0, 1)
/// let z = rng.nextGaussian()         // N(0, 1)
/// ```
public struct SplitMix64: RandomNumberGenerator, Sendable, Equatable {
    /// The whole state: save it to resume the stream exactly.
    public var state: UInt64

    /// Creates a generator from any integer seed (negative seeds are taken bit for bit).
    public init<Seed: BinaryInteger>(seed: Seed) {
        state = UInt64(truncatingIfNeeded: seed)
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform `Double` in [0, 1) from the top 53 bits.
    public mutating func nextUniform() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A standard normal sample (Box–Muller; one sample per call, deterministic):
    /// the first of ``nextGaussianPair()``.
    public mutating func nextGaussian() -> Double {
        nextGaussianPair().0
    }

    /// Two independent standard normal samples from one Box–Muller transform
    /// (the cosine and the sine of the same angle), for half the cost per
    /// sample of two ``nextGaussian()`` calls.
    public mutating func nextGaussianPair() -> (Double, Double) {
        // 1 - u lies in (0, 1], so the logarithm is finite.
        let radius = (-2 * log(1 - nextUniform())).squareRoot()
        let angle = 2 * Double.pi * nextUniform()
        return (radius * cos(angle), radius * sin(angle))
    }

    /// A generator for a sub-stream: the same parent state and `stream` always give the same child.
    public func derived(stream: UInt64) -> SplitMix64 {
        var mixer = SplitMix64(seed: state ^ (stream &* 0xD1B5_4A32_D192_ED03))
        return SplitMix64(seed: mixer.next())
    }
}

