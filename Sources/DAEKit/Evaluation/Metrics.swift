import DAELayers
import Foundation

/// Image quality measures between a prediction and a clean reference.
///
/// Inputs are NHWC tensors `[n, height, width, channels]` of the same shape,
/// with pixel values on the scale [0, 1] (peak 1). Sums are accumulated in
/// `Double`.
///
/// ```swift
/// let denoised = try model.denoise(noisy)
/// let psnr = try ImageMetrics.psnr(denoised, clean)    // dB, higher is better
/// let ssim = try ImageMetrics.ssim(denoised, clean)    // 1 means identical
/// ```
public enum ImageMetrics {
    /// The smallest per-image MSE used by ``psnr(_:_:)``: identical images score 10·log10(1e12) = 120 dB.
    public static let mseFloor = 1e-12

    /// The mean squared error over every element.
    ///
    /// - Throws: `DAEError/shapeMismatch(_:expected:actual:)` when the shapes
    ///   differ, `DAEError/invalidArgument(_:)` when the tensors are empty.
    public static func mse(_ a: Tensor, _ b: Tensor) throws -> Double {
        try checkPair(a, b, minimumRank: 1)
        return a.withUnsafeBufferPointer { x in
            b.withUnsafeBufferPointer { y in squaredDistance(x, y) / Double(x.count) }
        }
    }

    /// The peak signal-to-noise ratio in dB for peak 1, averaged over images.
    ///
    /// For each image `i` (a slice along dimension 0), `10·log10(1 / max(mse_i, 1e-12))`;
    /// the result is their mean (the convention of the Keras comparison scripts,
    /// not the PSNR of the pooled MSE).
    ///
    /// - Throws: as ``mse(_:_:)``.
    public static func psnr(_ prediction: Tensor, _ clean: Tensor) throws -> Double {
        try checkPair(prediction, clean, minimumRank: 1)
        let images = prediction.shape[0]
        let size = prediction.count / images
        return prediction.withUnsafeBufferPointer { x in
            clean.withUnsafeBufferPointer { y in
                var total = 0.0
                for image in 0..<images {
                    let range = (image * size)..<((image + 1) * size)
                    let mse = squaredDistance(UnsafeBufferPointer(rebasing: x[range]),
                                              UnsafeBufferPointer(rebasing: y[range])) / Double(size)
                    total += 10 * log10(1 / Swift.max(mse, mseFloor))
                }
                return total / Double(images)
            }
        }
    }

    /// The structural similarity index (SSIM), averaged over images and channels.
    ///
    /// This is Wang et al. (2004) as computed by scikit-image's
    /// `structural_similarity(a, b, channel_axis=-1, data_range=1,
    /// gaussian_weights=True, sigma=1.5, use_sample_covariance=False)` on
    /// each image:
    ///
    /// - local means, variances and covariance use an 11×11 Gaussian window,
    ///   σ = 1.5, weights `exp(-x²/2σ²)` for x in -5…5, normalised to sum 1
    ///   (separable), population (not sample) statistics;
    /// - `C1 = (0.01·L)²`, `C2 = (0.03·L)²` with `L = 1`;
    /// - `SSIM = (2µxµy + C1)(2σxy + C2) / ((µx² + µy² + C1)(σx² + σy² + C2))`
    ///   is averaged over the "valid" window positions only, those where the
    ///   whole window lies inside the image (`(h - 10)·(w - 10)` of them), which
    ///   is exactly the region scikit-image keeps after cropping its border;
    /// - the mean over positions is taken per image and channel, then averaged.
    ///
    /// - Throws: as ``mse(_:_:)``; also `DAEError/invalidArgument(_:)` when the
    ///   tensors are not rank 4 or the images are smaller than 11×11.
    public static func ssim(_ prediction: Tensor, _ clean: Tensor) throws -> Double {
        try checkPair(prediction, clean, minimumRank: 4)
        guard prediction.rank == 4 else {
            throw DAEError.invalidArgument("SSIM needs NHWC images of rank 4, got shape \(prediction.shape)")
        }
        let (n, h, w, c) = (prediction.shape[0], prediction.shape[1], prediction.shape[2], prediction.shape[3])
        guard h >= SSIMWindow.size, w >= SSIMWindow.size else {
            throw DAEError.invalidArgument(
                "SSIM needs images of at least \(SSIMWindow.size)x\(SSIMWindow.size) pixels, got \(h)x\(w)")
        }
        var window = SSIMWindow(height: h, width: w)
        return prediction.withUnsafeBufferPointer { x in
            clean.withUnsafeBufferPointer { y in
                // Non-empty (checked above), so both base addresses exist.
                guard let xBase = x.baseAddress, let yBase = y.baseAddress else { return .nan }
                var total = 0.0
                for image in 0..<n {
                    for channel in 0..<c {
                        let offset = image * h * w * c + channel
                        total += window.meanSSIM(xBase + offset, yBase + offset, stride: c)
                    }
                }
                return total / Double(n * c)
            }
        }
    }

    /// Throws unless `a` and `b` have the same, non-empty shape of at least `minimumRank` dimensions.
    private static func checkPair(_ a: Tensor, _ b: Tensor, minimumRank: Int) throws {
        guard a.shape == b.shape else {
            throw DAEError.shapeMismatch("compared images", expected: b.shape, actual: a.shape)
        }
        guard a.rank >= minimumRank, a.count > 0 else {
            throw DAEError.invalidArgument("cannot compare empty images (shape \(a.shape))")
        }
    }

    /// Σ (x - y)² in `Double`.
    private static func squaredDistance(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeBufferPointer<Float>) -> Double {
        var sum = 0.0
        for i in 0..<x.count {
            let d = Double(x[i]) - Double(y[i])
            sum += d * d
        }
        return sum
    }
}

/// The three quality measures of a denoised batch against the clean one.
///
/// ```swift
/// let report = try QualityReport.compare(denoised, to: clean)
/// print(report.psnr, report.ssim ?? .nan)
/// ```
public struct QualityReport: Sendable, Codable, Equatable, Hashable {
    /// Mean squared error over every element (``ImageMetrics/mse(_:_:)``).
    public var mse: Double
    /// Mean per-image PSNR in dB, peak 1 (``ImageMetrics/psnr(_:_:)``).
    public var psnr: Double
    /// Mean SSIM (``ImageMetrics/ssim(_:_:)``); nil when the images are
    /// smaller than the 11×11 SSIM window.
    public var ssim: Double?

    /// Creates a report from its values.
    public init(mse: Double, psnr: Double, ssim: Double?) {
        self.mse = mse
        self.psnr = psnr
        self.ssim = ssim
    }

    /// Measures `prediction` against `clean` (both NHWC, same shape).
    ///
    /// - Throws: `DAEError/shapeMismatch(_:expected:actual:)` or
    ///   `DAEError/invalidArgument(_:)` for different, empty or non-NHWC shapes.
    public static func compare(_ prediction: Tensor, to clean: Tensor) throws -> QualityReport {
        let mse = try ImageMetrics.mse(prediction, clean)
        guard prediction.rank == 4 else {
            throw DAEError.invalidArgument("quality report needs NHWC images of rank 4, got shape \(prediction.shape)")
        }
        let psnr = try ImageMetrics.psnr(prediction, clean)
        let fitsWindow = prediction.shape[1] >= SSIMWindow.size && prediction.shape[2] >= SSIMWindow.size
        let ssim = fitsWindow ? try ImageMetrics.ssim(prediction, clean) : nil
        return QualityReport(mse: mse, psnr: psnr, ssim: ssim)
    }
}
