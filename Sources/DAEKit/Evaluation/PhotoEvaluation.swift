import DAEImageIO
import DAELayers

extension DenoisingAutoencoder {
    /// The photo benchmark's noise levels: std 15, 25 and 50 (/255).
    public static let photoNoiseLevels: [Float] = [15 / 255, 25 / 255, 50 / 255]

    /// The noisy copy of a photograph used by ``evaluate(photos:noiseLevels:seed:)``:
    /// `clip(x + N(0, std), 0, 1)` rounded to 8 bits, the noise drawn from
    /// the stream of `(seed, std, index)`, so each level and image is reproducible alone.
    public static func noisyPhoto(_ clean: Tensor, std: Float, seed: UInt64, index: Int) -> Tensor {
        var noisy = clean
        var rng = RandomStreams.generator(seed: seed, .evaluationNoise, Int(std.bitPattern), index)
        NoiseModel.photo(std: std).apply(to: &noisy, using: &rng)
        return quantized(noisy)
    }

    /// Values rounded to the nearest of the 256 8-bit levels, as a PNG would store them.
    public static func quantized(_ tensor: Tensor) -> Tensor {
        var copy = tensor
        copy.withUnsafeMutableBufferPointer { values in
            for i in values.indices { values[i] = Float(Image.byte(from: values[i])) / 255 }
        }
        return copy
    }

    /// Denoising quality on whole photographs: for each std, PSNR and SSIM
    /// (MSE too) of the noisy and of the denoised image against the clean
    /// one, at full resolution, averaged over the folder's images (each
    /// image weighs the same). Noisy inputs and outputs are rounded to 8 bits
    /// first, as images on disk are; the noise is zero-mean Gaussian, clipped
    /// (``noisyPhoto(_:std:seed:index:)``).
    ///
    /// Images of any size need a ``Configuration/Architecture/residual``
    /// model; an autoencoder takes only images of its input size.
    ///
    /// - Throws: the folder's read errors, `DAEError/invalidArgument(_:)` for
    ///   a std outside [0, 1], and shape errors.
    public func evaluate(photos: ImageFolder, noiseLevels: [Float] = DenoisingAutoencoder.photoNoiseLevels,
                         seed: UInt64 = 0) throws -> [RobustnessResult] {
        guard photos.channels == configuration.inputShape[2] else {
            throw DAEError.shapeMismatch("photo channels", expected: [configuration.inputShape[2]], actual: [photos.channels])
        }
        let size = Array(configuration.inputShape.prefix(2))
        if configuration.tilingStrategy == .blendedTiles, let other = photos.files.first(where: { [$0.height, $0.width] != size }) {
            throw DAEError.invalidArgument("\(other.name) is \(other.width)x\(other.height): an autoencoder takes only "
                + "\(size[1])x\(size[0]) images; photographs of any size need a residual (photo) model")
        }
        for std in noiseLevels where !(std.isFinite && std >= 0 && std <= 1) {
            throw DAEError.invalidArgument("noise std must be in [0, 1], got \(std)")
        }
        var noisyTotals = [ReportAccumulator](repeating: ReportAccumulator(), count: noiseLevels.count)
        var denoisedTotals = noisyTotals
        for index in photos.files.indices {
            let clean = try photos.image(at: index).tensor(channels: photos.channels)
            for (level, std) in noiseLevels.enumerated() {
                let noisy = Self.noisyPhoto(clean, std: std, seed: seed, index: index)
                let denoised = Self.quantized(try denoise(noisy))
                noisyTotals[level].add(try QualityReport.compare(noisy, to: clean), images: 1)
                denoisedTotals[level].add(try QualityReport.compare(denoised, to: clean), images: 1)
            }
        }
        return noiseLevels.indices.map {
            RobustnessResult(std: noiseLevels[$0], noisy: noisyTotals[$0].mean, denoised: denoisedTotals[$0].mean)
        }
    }
}
