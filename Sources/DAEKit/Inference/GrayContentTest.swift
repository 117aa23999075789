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
///   gives block means `m` of variance `σc² / 64`: each `z = 8m / σc` is
///   a standard normal draw, and the statistic `T = mean(z²)` over both
///   channels is 1 give or take `1 / √blocks`. A faint uniform tint of a
///   fraction of `σc` raises `T`; so does chroma noise that is not white
///   (JPEG's subsampled chroma, a camera's demosaicing), which leaves such
///   an image to the colour model. Colour in a small part of the picture
///   (a sign in a foggy scene) raises `T` little but shows as block means
///   no normal draw reaches: their largest `|z|`, and how many pass 3.
///
/// The image is gray when, over at least 16 blocks (`n` block means),
/// `|T − 1| ≤ max(0.1, 4 / √blocks)` (`T` may fall to twice that below 1,
/// where clipping shrinks the noise), the largest `|z|` is at most
/// `√(2 ln n) + 2`, and at most `n·p + 5√(n·p) + 3` of the `|z|` pass 3
/// (`p` = 0.0027, their chance under noise alone); or when it has no chroma
/// at all (every block mean 0: R = G = B); and when at most a tenth of its samples are
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

    /// The width in pixels of the image whose rows ``add(rows:rowCount:)`` takes.
    public let width: Int
    private var chroma = NoiseLevelEstimator(), channels = NoiseLevelEstimator()
    /// The current strip's sums of u and v per block column, and its rows so far.
    private var stripSums: [Double]
    private var stripRows = 0
    /// The sum of the squared block means of u and v over finished blocks, and their count.
    private var squaredMeans: Double = 0
    private var blocks = 0
    /// The largest |block mean| of u or v, and a histogram of them
    /// (``histogramBins`` bins over `0..<histogramMaximum`), to count the outliers at the end.
    private var largestMean: Double = 0
    private var meanHistogram = [Int](repeating: 0, count: GrayContentTest.histogramBins)
    private static let histogramBins = 8192, histogramMaximum = 0.5
    /// Samples seen, and those at 0 or 1.
    private var samples = 0, clipped = 0

    /// A test of an image `width` pixels wide (at least 0).
    public init(width: Int) {
        precondition(width >= 0, "a width of \(width) pixels")
        self.width = width
        stripSums = [Double](repeating: 0, count: 2 * (width / Self.blockSide))
    }

    /// Adds `rowCount` RGB rows (`width × 3` values each, in [0, 1]), top to
    /// bottom; feed rows in even counts but the last (as ``NoiseLevelEstimator``).
    public mutating func add(rows: UnsafePointer<Float>, rowCount: Int) {
        precondition(rowCount >= 0, "a count of \(rowCount) rows")
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
                for sum in stripSums {
                    let mean = abs(sum / area)
                    squaredMeans += mean * mean
                    largestMean = max(largestMean, mean)
                    meanHistogram[min(Int(mean / Self.histogramMaximum * Double(Self.histogramBins)), Self.histogramBins - 1)] += 1
                }
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

    /// The largest `|z|` of a block mean (nil as ``statistic``).
    public var largestDeviation: Float? {
        guard blocks > 0, let sigma = chroma.estimate, sigma > 0 else { return nil }
        return Float(largestMean * Double(Self.blockSide)) / sigma
    }

    /// How many block means have `|z|` above 3 (nil as ``statistic``; counted
    /// by bins of 1/16384, so within a bin of the exact line).
    public var deviationsAboveThree: Int? {
        guard blocks > 0, let sigma = chroma.estimate, sigma > 0 else { return nil }
        let line = 3 * Double(sigma) / Double(Self.blockSide)
        let first = min(Int((line / Self.histogramMaximum * Double(Self.histogramBins)).rounded(.up)), Self.histogramBins)
        return meanHistogram[first...].reduce(0, +)
    }

    /// The verdict: nil for a colour image (or one too small to tell), else
    /// the gray picture's noise level.
    public var verdict: Verdict? {
        guard blocks >= Self.minimumBlocks, clippedFraction <= Self.maximumClippedFraction else { return nil }
        let own = channelNoiseLevel
        // No chroma at all (R = G = B): gray, its noise shared by the channels.
        if largestMean == 0 { return Verdict(noiseLevel: own, noiseShared: true) }
        guard let sigma = chroma.estimate, sigma > 0, let statistic, let largest = largestDeviation,
              let outliers = deviationsAboveThree else { return nil }
        let means = Float(2 * blocks), margin = max(0.1, 4 / Float(blocks).squareRoot())
        let expected = means * 0.0027
        guard statistic <= 1 + margin, statistic >= 1 - 2 * margin,
              largest <= (2 * log(means)).squareRoot() + 2,
              Float(outliers) <= expected + 5 * expected.squareRoot() + 3 else { return nil }
        return 3 * sigma >= own ? Verdict(noiseLevel: sigma / Float(3).squareRoot(), noiseShared: false)
                                : Verdict(noiseLevel: own, noiseShared: true)
    }
}
