import Foundation

/// Estimates the std of white Gaussian noise in an image, as Donoho and
/// Johnstone do: the median absolute value of the finest diagonal wavelet
/// band (Haar: `(a − b − c + d) / 2` over each 2×2 block, which keeps the
/// noise's std and cancels smooth content) divided by 0.6745, the median of
/// `|N(0, 1)|`.
///
/// Texture and edges leak into the diagonal band and only raise the
/// estimate, the safe direction for a denoiser (one told too little noise
/// leaves it in; one told too much smooths a little more). Clipping at 0
/// and 1 shrinks the noise near black and white, so the median is taken
/// over the blocks whose mean lies at least 2.5 estimated stds from both
/// ends (refined three times from all blocks), falling back to all
/// unsaturated blocks where too few are left (a night sky). It runs on rows
/// as they stream in, in constant memory: a histogram of the band's
/// magnitudes by block brightness.
///
/// ```swift
/// var estimator = NoiseLevelEstimator()
/// estimator.add(rows: pixels, rowCount: height, width: width, channels: 3)
/// let sigma = estimator.estimate   // in [0, 1] units, e.g. 0.098 for σ 25/255
/// ```
public struct NoiseLevelEstimator: Sendable {
    /// Histogram bins over `|HH|` in `0..<maximum`, for each of `levels` block-mean bins.
    private static let bins = 4096, levels = 64
    private static let maximum: Float = 0.5
    private var histogram = [Int](repeating: 0, count: NoiseLevelEstimator.bins * NoiseLevelEstimator.levels)

    /// An empty estimator.
    public init() {}

    /// Adds the 2×2 blocks of `rowCount` rows (`width × channels` values
    /// each, channels interleaved, values in [0, 1]); with an odd count the
    /// last row is left out, so feed rows in pairs.
    public mutating func add(rows: UnsafePointer<Float>, rowCount: Int, width: Int, channels: Int) {
        let rowSize = width * channels
        for pair in 0..<(rowCount / 2) {
            let top = rows + 2 * pair * rowSize, bottom = top + rowSize
            for x in 0..<(width / 2) {
                for c in 0..<channels {
                    let i = 2 * x * channels + c
                    let (a, b, p, q) = (top[i], top[i + channels], bottom[i], bottom[i + channels])
                    if a <= 0 || a >= 1 || b <= 0 || b >= 1 || p <= 0 || p >= 1 || q <= 0 || q >= 1 { continue }
                    record(band: abs(a - b - p + q) / 2, brightness: (a + b + p + q) / 4)
                }
            }
        }
    }

    /// Adds the 2×2 blocks of `rowCount` RGB rows (`width × 3` values each,
    /// in [0, 1]) as measured in their two opponent chroma channels,
    /// `(R − G) / √2` and `(R + G − 2B) / √6`, which keep the std of noise
    /// drawn independently in R, G and B and cancel gray content: on a gray
    /// picture the estimate is the noise's std in each channel, however
    /// textured the picture (``GrayContentTest``). A block counts where all
    /// twelve samples are unclipped, at the brightness of its gray mean.
    public mutating func addChroma(rows: UnsafePointer<Float>, rowCount: Int, width: Int) {
        let rowSize = width * 3
        for pair in 0..<(rowCount / 2) {
            let top = rows + 2 * pair * rowSize, bottom = top + rowSize
            for x in 0..<(width / 2) {
                let i = 6 * x
                var unclipped = true, sum: Float = 0
                for k in 0..<6 {
                    let (t, u) = (top[i + k], bottom[i + k])
                    unclipped = unclipped && t > 0 && t < 1 && u > 0 && u < 1
                    sum += t + u
                }
                guard unclipped else { continue }
                let (a, b, p, q) = (Self.opponent(top + i), Self.opponent(top + i + 3), Self.opponent(bottom + i), Self.opponent(bottom + i + 3))
                let brightness = sum / 12
                record(band: abs(a.u - b.u - p.u + q.u) / 2, brightness: brightness)
                record(band: abs(a.v - b.v - p.v + q.v) / 2, brightness: brightness)
            }
        }
    }

    /// The opponent chroma channels of the RGB pixel at `pixel`: `(R − G) / √2` and `(R + G − 2B) / √6`.
    @inline(__always)
    static func opponent(_ pixel: UnsafePointer<Float>) -> (u: Float, v: Float) {
        ((pixel[0] - pixel[1]) * 0.70710678, (pixel[0] + pixel[1] - 2 * pixel[2]) * 0.40824829)
    }

    /// Counts one block's diagonal band magnitude at its brightness (both in [0, 1] units).
    @inline(__always)
    private mutating func record(band: Float, brightness: Float) {
        let level = min(Int(brightness * Float(Self.levels)), Self.levels - 1)
        histogram[level * Self.bins + min(Int(band * Float(Self.bins) / Self.maximum), Self.bins - 1)] += 1
    }

    /// The estimated std in [0, 1] units (nil before any unsaturated block).
    public var estimate: Float? {
        guard var sigma = median(levels: 0..<Self.levels).map({ $0 / 0.6745 }) else { return nil }
        for _ in 0..<3 {
            let low = Int((2.5 * sigma * Float(Self.levels)).rounded(.up)), high = Self.levels - low
            guard low < high, let refined = median(levels: low..<high, minimumCount: 256) else { break }
            sigma = refined / 0.6745
        }
        return sigma
    }

    /// The median `|HH|` over the blocks whose mean falls in `levels`, or nil
    /// with fewer than `minimumCount` such blocks (at least one).
    private func median(levels: Range<Int>, minimumCount: Int = 1) -> Float? {
        var counts = [Int](repeating: 0, count: Self.bins)
        var total = 0
        for level in levels {
            for bin in 0..<Self.bins {
                counts[bin] += histogram[level * Self.bins + bin]
            }
        }
        total = counts.reduce(0, +)
        guard total >= max(minimumCount, 1) else { return nil }
        var seen = 0
        for (bin, count) in counts.enumerated() {
            seen += count
            if 2 * seen >= total { return (Float(bin) + 0.5) * Self.maximum / Float(Self.bins) }
        }
        return nil
    }

    /// The estimated noise std of an `[h, w, c]` image (values in [0, 1]);
    /// 0 when it has no unsaturated 2×2 block.
    public static func estimate(_ image: UnsafeBufferPointer<Float>, height: Int, width: Int, channels: Int) -> Float {
        var estimator = NoiseLevelEstimator()
        if let base = image.baseAddress { estimator.add(rows: base, rowCount: height, width: width, channels: channels) }
        return estimator.estimate ?? 0
    }
}
