import Foundation

/// Tells whether an RGB image is a gray picture under noise: its colour, the
/// opponent chroma channels `(R − G) / √2` and `(R + G − 2B) / √6`, nothing
/// but noise. A gray photograph scanned in colour, or saved as RGB with noise
/// drawn in each channel, is such an image; its channels' mean holds all of
/// its content with a third of the noise variance, and the built-in gray
/// model denoises that mean better than the colour model denoises the three
/// channels (``BuiltInPhotoDenoiser``).
///
/// The test, in one streaming pass and constant memory:
/// - the chroma's noise std `σc`, estimated as ``NoiseLevelEstimator`` does
///   but on the chroma channels (``NoiseLevelEstimator/addChroma(rows:rowCount:width:)``),
///   where gray texture cannot raise it;
/// - the chroma's means over 8×8 blocks. Chroma that is only white noise
///   gives block means of variance `σc² / 64`, so the statistic
///   `T = 64 · mean(m²) / σc²` over both channels is 1 give or take
///   `1 / √blocks`. Any colour, even a faint uniform tint of a fraction of
///   `σc`, raises it; so does chroma noise that is not white (JPEG's
///   subsampled chroma, a camera's demosaicing), which leaves such an image
///   to the colour model.
///
/// The image is gray when `T ≤ 1 + max(0.1, 4 / √blocks)` over at least 16
/// blocks, or when it has no chroma at all (R = G = B up to the blocks'
/// means, with no chroma noise); and when at most a tenth of its samples are
/// clipped (0 or 1): the mean of clipped channels carries a bias the gray
/// model never learned, and on dark pictures under strong noise (12–14% of
/// the samples clipped, scikit-image's gray photographs at a quarter of their
/// brightness and σ 25) the colour model does better (`Docs/Results.md`).
///
/// ```swift
/// var test = GrayContentTest(width: width)
/// test.add(rows: rgb, rowCount: height)      // in chunks of rows, top to bottom
/// if let gray = test.verdict { print(gray.noiseLevel) }   // nil: colour
/// ```
public struct GrayContentTest: Sendable {
    /// The side of the blocks whose chroma means are tested.
    public static let blockSide = 8
    /// The fewest whole blocks the test decides on; a smaller image is colour.
    public static let minimumBlocks = 16
    /// The largest fraction of clipped samples (0 or 1) a gray picture may have.
    public static let maximumClippedFraction: Float = 0.1

    /// What the test found in a gray picture.
    public struct Verdict: Sendable, Equatable {
        /// The noise std of the channels' mean (in [0, 1] units): `σc / √3`
        /// when the noise was drawn in each channel independently, or the
        /// channels' own estimate (``GrayContentTest/channelNoiseLevel``)
        /// when they share it.
        public var noiseLevel: Float
        /// True when the channels share their noise: the chroma holds under a
        /// third of the noise std the channels show (R = G = B files, say).
        /// A noise level given for the channels then holds for their mean as
        /// it is, otherwise it is divided by √3
        /// (``meanNoiseLevel(forChannelNoiseLevel:)``). Noise that is partly
        /// shared counts as independent, and its level errs low; texture fine
        /// enough to triple the channels' plain estimate counts as shared, and
        /// the level errs high.
        public var noiseShared: Bool

        /// The noise std of the channels' mean for noise of std `level` in each channel.
        public func meanNoiseLevel(forChannelNoiseLevel level: Float) -> Float {
            noiseShared ? level : level / Float(3).squareRoot()
        }
    }

    public let width: Int
    private var chroma = NoiseLevelEstimator(), channels = NoiseLevelEstimator()
    /// The current strip's sums of u and v per block column, and its rows so far.
    private var stripSums: [Double]
    private var stripRows = 0
    /// The sum of the squared block means of u and v over finished blocks, and their count.
    private var squaredMeans: Double = 0
    private var blocks = 0
    /// Samples seen, and those at 0 or 1.
    private var samples = 0, clipped = 0

    /// A test of an image `width` pixels wide.
    public init(width: Int) {
        self.width = width
        stripSums = [Double](repeating: 0, count: 2 * (width / Self.blockSide))
    }

    /// Adds `rowCount` RGB rows (`width × 3` values each, in [0, 1]), top to
    /// bottom; feed rows in even counts but the last (as ``NoiseLevelEstimator``).
    public mutating func add(rows: UnsafePointer<Float>, rowCount: Int) {
        chroma.addChroma(rows: rows, rowCount: rowCount, width: width)
        channels.add(rows: rows, rowCount: rowCount, width: width, channels: 3)
        for i in 0..<(rowCount * width * 3) where rows[i] <= 0 || rows[i] >= 1 { clipped += 1 }
        samples += rowCount * width * 3
        let columns = width / Self.blockSide
        for row in 0..<rowCount {
            let line = rows + row * width * 3
            for column in 0..<columns {
                var (u, v): (Float, Float) = (0, 0)
                for x in (column * Self.blockSide)..<((column + 1) * Self.blockSide) {
                    let chroma = NoiseLevelEstimator.opponent(line + 3 * x)
                    u += chroma.u
                    v += chroma.v
                }
                stripSums[2 * column] += Double(u)
                stripSums[2 * column + 1] += Double(v)
            }
            stripRows += 1
            if stripRows == Self.blockSide {
                let area = Double(Self.blockSide * Self.blockSide)
                for sum in stripSums { squaredMeans += (sum / area) * (sum / area) }
                blocks += columns
                for i in stripSums.indices { stripSums[i] = 0 }
                stripRows = 0
            }
        }
    }

    /// The plain noise estimate of the R, G and B channels (``NoiseLevelEstimator``
    /// on the rows as they are: what the colour model is told), 0 before any unclipped block.
    public var channelNoiseLevel: Float { channels.estimate ?? 0 }

    /// The fraction of the samples seen that are clipped (at most 0 or at least 1).
    public var clippedFraction: Float { samples > 0 ? Float(clipped) / Float(samples) : 0 }

    /// The test statistic `T` (1 for white chroma noise; nil without blocks or chroma noise).
    public var statistic: Float? {
        guard blocks > 0, let sigma = chroma.estimate, sigma > 0 else { return nil }
        let area = Double(Self.blockSide * Self.blockSide)
        return Float(area * squaredMeans / Double(2 * blocks) / Double(sigma * sigma))
    }

    /// The verdict: nil for a colour image (or one too small to tell), else
    /// the gray picture's noise level.
    public var verdict: Verdict? {
        guard blocks >= Self.minimumBlocks, clippedFraction <= Self.maximumClippedFraction else { return nil }
        let own = channelNoiseLevel
        guard let sigma = chroma.estimate, sigma > 0 else {
            // No chroma noise: gray only if there is no chroma at all (R = G = B).
            return squaredMeans == 0 ? Verdict(noiseLevel: own, noiseShared: true) : nil
        }
        guard let statistic, statistic <= 1 + max(0.1, 4 / Float(blocks).squareRoot()) else { return nil }
        return 3 * sigma >= own ? Verdict(noiseLevel: sigma / Float(3).squareRoot(), noiseShared: false)
                                : Verdict(noiseLevel: own, noiseShared: true)
    }
}
