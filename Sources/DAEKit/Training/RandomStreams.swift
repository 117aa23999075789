/// The random streams of training and evaluation, each derived from the
/// user's seed and a position (epoch, image index), never from a running
/// generator: any epoch or image can be regenerated on its own, which is
/// what makes resumed training identical to an uninterrupted run.
enum RandomStreams {
    /// What a stream is for; each purpose gets independent numbers.
    enum Purpose: UInt64 {
        case shuffle = 1, trainingNoise, validationNoise, evaluationNoise, patches
    }

    /// The generator for `purpose` at `(major, minor)`, e.g. (epoch, image).
    static func generator(seed: UInt64, _ purpose: Purpose, _ major: Int, _ minor: Int = 0) -> SplitMix64 {
        let root = SplitMix64(seed: seed ^ (purpose.rawValue &* 0x9E37_79B9_7F4A_7C15))
        return root.derived(stream: (UInt64(truncatingIfNeeded: major) << 32) ^ UInt64(truncatingIfNeeded: minor))
    }

    /// Applies `noise` to each of `count` images at `pixels`, image `k` getting
    /// the stream of `(purpose, major, indices[k])`.
    static func corrupt(_ pixels: UnsafeMutablePointer<Float>, indices: some Collection<Int>, imageSize: Int,
                        noise: NoiseModel, seed: UInt64, _ purpose: Purpose, major: Int) {
        var image = pixels
        for index in indices {
            var rng = generator(seed: seed, purpose, major, index)
            noise.apply(to: UnsafeMutableBufferPointer(start: image, count: imageSize), using: &rng)
            image += imageSize
        }
    }

    /// The noise std ``corrupt(_:indices:imageSize:noise:seed:_:major:)``
    /// adds to each of `indices` (the first draw of the same stream), as the
    /// noise-level map of a model that takes one.
    static func noiseLevels(indices: some Collection<Int>, noise: NoiseModel, seed: UInt64, _ purpose: Purpose,
                            major: Int) -> [Float] {
        indices.map { index in
            var rng = generator(seed: seed, purpose, major, index)
            return Float(noise.drawnStd(using: &rng))
        }
    }
}
