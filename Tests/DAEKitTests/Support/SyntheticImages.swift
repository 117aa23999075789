import DAEKit

/// Small, structured images for training tests: each holds one to three
/// filled rectangles of random size, position and brightness on black, the
/// kind of picture a denoiser can learn in a few hundred steps.
enum SyntheticImages {
    /// `count` images of `height × width × channels`, bytes 0–255, from `seed`.
    static func rectangles(count: Int, height: Int = 28, width: Int = 28, channels: Int = 1,
                           seed: UInt64) throws -> ImageDataset {
        var rng = SplitMix64(seed: seed)
        var pixels = [UInt8](repeating: 0, count: count * height * width * channels)
        func draw(_ range: Range<Int>) -> Int { range.lowerBound + Int(rng.next() % UInt64(range.count)) }
        for image in 0..<count {
            for _ in 0..<draw(1..<4) {
                let top = draw(0..<(height - 4)), left = draw(0..<(width - 4))
                let bottom = draw((top + 3)..<height), right = draw((left + 3)..<width)
                let value = UInt8(draw(128..<256))
                for y in top..<bottom {
                    for x in left..<right {
                        for c in 0..<channels { pixels[((image * height + y) * width + x) * channels + c] = value }
                    }
                }
            }
        }
        return try ImageDataset(pixels: pixels, count: count, height: height, width: width, channels: channels)
    }

}
