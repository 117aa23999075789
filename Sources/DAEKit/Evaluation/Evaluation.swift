/// How well a model denoises at one noise level.
public struct RobustnessResult: Sendable, Equatable, Codable {
    /// The standard deviation of the Gaussian noise (mean 0.5, clipped to [0, 1], as the tutorial's).
    public var std: Float
    /// The noisy input measured against the clean images: the baseline.
    public var noisy: QualityReport
    /// The denoised output measured against the clean images.
    public var denoised: QualityReport
}

extension DenoisingAutoencoder {
    /// The noise levels of the tutorial's robustness table.
    public static let robustnessLevels: [Float] = [0.5, 0.75, 1.0]

    /// MSE, PSNR and SSIM of the denoised `noisy` images against `clean`.
    public func evaluate(noisy: Tensor, clean: Tensor) throws -> QualityReport {
        try clean.checkShape(noisy.shape, "clean images (must match the noisy images)")
        try ImageValidation.check(clean, imageShape: configuration.inputShape, what: "clean images")
        return try QualityReport.compare(denoise(noisy), to: clean)
    }

    /// The robustness table: for each noise std (Gaussian, mean 0.5, clipped),
    /// the quality of the noisy input and of the denoised output on every
    /// image of `clean`. The noise is drawn from `seed`, a stream per image
    /// and noise level, so the table is reproducible and a level's figures
    /// do not depend on the other levels listed. Works through the images in chunks, so
    /// a large test set needs no more memory than a chunk.
    public func evaluate(_ clean: some ImageSource, noiseLevels: [Float] = DenoisingAutoencoder.robustnessLevels,
                         seed: UInt64 = 0, chunkSize: Int = 1000) throws -> [RobustnessResult] {
        guard clean.imageShape == configuration.inputShape else {
            throw DAEError.shapeMismatch("evaluation images", expected: configuration.inputShape, actual: clean.imageShape)
        }
        guard clean.imageCount > 0 else { throw DAEError.invalidArgument("the evaluation set is empty") }
        try clean.validatePixels("evaluation images")
        guard chunkSize > 0 else { throw DAEError.invalidArgument("chunk size must be positive, got \(chunkSize)") }
        let imageSize = Tensor.elementCount(of: configuration.inputShape)
        return try noiseLevels.map { std in
            let noise = NoiseModel.gaussian(mean: 0.5, std: std)
            try noise.validate()
            var noisyTotal = ReportAccumulator(), denoisedTotal = ReportAccumulator()
            for start in stride(from: 0, to: clean.imageCount, by: chunkSize) {
                let indices = start..<min(start + chunkSize, clean.imageCount)
                var scalars = [Float](repeating: 0, count: indices.count * imageSize)
                scalars.withUnsafeMutableBufferPointer { clean.fill(indices, into: $0.baseAddress!) }
                let cleanChunk = Tensor(shape: [indices.count] + configuration.inputShape, scalars: scalars)
                scalars.withUnsafeMutableBufferPointer {
                    RandomStreams.corrupt($0.baseAddress!, indices: indices, imageSize: imageSize, noise: noise,
                                          seed: seed, .evaluationNoise, major: Int(std.bitPattern))
                }
                let noisyChunk = Tensor(shape: cleanChunk.shape, scalars: scalars)
                noisyTotal.add(try QualityReport.compare(noisyChunk, to: cleanChunk), images: indices.count)
                denoisedTotal.add(try QualityReport.compare(denoise(noisyChunk), to: cleanChunk), images: indices.count)
            }
            return RobustnessResult(std: std, noisy: noisyTotal.mean, denoised: denoisedTotal.mean)
        }
    }
}

/// Combines per-chunk reports into the report of all images. Every
/// measure is a mean over images (MSE: over equal-sized images), so
/// chunk means weighted by image count give the exact overall mean.
struct ReportAccumulator {
    private var images = 0
    private var mse: Double = 0, psnr: Double = 0, ssim: Double = 0
    private var hasSSIM = true

    mutating func add(_ report: QualityReport, images count: Int) {
        images += count
        mse += report.mse * Double(count)
        psnr += report.psnr * Double(count)
        if let value = report.ssim { ssim += value * Double(count) } else { hasSSIM = false }
    }

    var mean: QualityReport {
        let n = Double(max(images, 1))
        return QualityReport(mse: mse / n, psnr: psnr / n, ssim: hasSSIM ? ssim / n : nil)
    }
}
