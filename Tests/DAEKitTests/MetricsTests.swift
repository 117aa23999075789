import DAEKit
import DAELayers
import Foundation
import Testing

/// MSE, PSNR and SSIM between a prediction and the clean images.
@Suite("Image metrics")
struct MetricsTests {
    /// A 12×13 test pattern and a perturbed copy, as in the Python reference below.
    static func pattern() -> (x: [Float], y: [Float]) {
        var x = [Float](), y = [Float]()
        for i in 0..<12 {
            for j in 0..<13 {
                let value = Float((i * 7 + j * 3) % 16) / 15
                x.append(value)
                y.append(Float(min(max(Double(value) + Double((i * 5 + j * 11) % 7 - 3) / 20, 0), 1)))
            }
        }
        return (x, y)
    }

    /// Smooth 16×16 images: a diagonal gradient per image.
    static func smooth(count n: Int = 2) -> Tensor {
        var scalars = [Float]()
        for image in 0..<n {
            for row in 0..<16 {
                for col in 0..<16 { scalars.append(Float(row + col + image) / 32) }
            }
        }
        return Tensor(shape: [n, 16, 16, 1], scalars: scalars)
    }

    @Test("identical images: MSE 0, PSNR 10·log10(1e12) = 120 dB, SSIM 1")
    func identicalImages() throws {
        let images = Self.smooth()
        #expect(try ImageMetrics.mse(images, images) == 0)
        #expect(try ImageMetrics.psnr(images, images) == 120)
        #expect(try ImageMetrics.ssim(images, images) == 1)
        #expect(try QualityReport.compare(images, to: images) == QualityReport(mse: 0, psnr: 120, ssim: 1))
    }

    @Test("MSE over all elements, PSNR as the mean of per-image PSNRs")
    func handComputedMSEAndPSNR() throws {
        // Image 0 differs by 0.5 in one of two pixels (MSE 0.125), image 1 by 0.25 (MSE 0.03125).
        let prediction = Tensor(shape: [2, 1, 2, 1], scalars: [0, 0.5, 0.25, 0.75])
        let clean = Tensor(shape: [2, 1, 2, 1], scalars: [0, 0, 0, 0.75])
        #expect(try ImageMetrics.mse(prediction, clean) == 0.078125)
        // (10·log10(8) + 10·log10(32)) / 2 = 10·log10(16)
        let psnr = try ImageMetrics.psnr(prediction, clean)
        #expect(abs(psnr - 10 * log10(16.0)) < 1e-12, "\(psnr)")
    }

    @Test("SSIM matches scikit-image's Gaussian SSIM (Wang et al. settings) on a fixed pattern")
    func ssimMatchesReference() throws {
        // Reference from SciPy, as skimage.metrics.structural_similarity(x, y, data_range=1,
        // gaussian_weights=True, sigma=1.5, use_sample_covariance=False) computes it:
        //   f = lambda a: gaussian_filter(a, sigma=1.5, truncate=3.5)
        //   S = ((2 ux uy + C1)(2 vxy + C2)) / ((ux² + uy² + C1)(vx + vy + C2)); S[5:-5, 5:-5].mean()
        let (x, y) = Self.pattern()
        let a = Tensor(shape: [1, 12, 13, 1], scalars: x), b = Tensor(shape: [1, 12, 13, 1], scalars: y)
        #expect(abs(try ImageMetrics.ssim(a, b) - 0.9522549490911517) < 1e-9)
        #expect(abs(try ImageMetrics.ssim(b, a) - 0.9522549490911517) < 1e-9)
    }

    @Test("SSIM of constant images follows the formula with zero variance")
    func ssimOfConstantImages() throws {
        let a = Tensor(repeating: 0.5, shape: [1, 11, 11, 1]), b = Tensor(repeating: 0.25, shape: [1, 11, 11, 1])
        let c1 = 0.0001
        let expected = (2 * 0.5 * 0.25 + c1) / (0.25 + 0.0625 + c1)
        #expect(abs(try ImageMetrics.ssim(a, b) - expected) < 1e-12)
    }

    @Test("SSIM averages over channels")
    func ssimAveragesChannels() throws {
        // Channel 0 identical, channel 1 constant 0.5 against constant 0.25.
        var a = [Float](), b = [Float]()
        for pixel in 0..<(11 * 11) {
            a += [Float(pixel % 11) / 10, 0.5]
            b += [Float(pixel % 11) / 10, 0.25]
        }
        let ssim = try ImageMetrics.ssim(Tensor(shape: [1, 11, 11, 2], scalars: a), Tensor(shape: [1, 11, 11, 2], scalars: b))
        let constantPair = (0.25 + 0.0001) / (0.3125 + 0.0001)
        #expect(abs(ssim - (1 + constantPair) / 2) < 1e-12)
    }

    @Test("more noise gives lower SSIM and PSNR")
    func noisierIsWorse() throws {
        let clean = Self.smooth()
        let light = NoiseModel.gaussian(mean: 0, std: 0.05).applied(to: clean, seed: 1)
        let heavy = NoiseModel.gaussian(mean: 0, std: 0.3).applied(to: clean, seed: 1)
        let lightReport = try QualityReport.compare(light, to: clean)
        let heavyReport = try QualityReport.compare(heavy, to: clean)
        let lightSSIM = try #require(lightReport.ssim), heavySSIM = try #require(heavyReport.ssim)
        #expect(heavySSIM < lightSSIM && lightSSIM < 1)
        #expect(heavyReport.psnr < lightReport.psnr)
        #expect(heavyReport.mse > lightReport.mse)
    }

    @Test("different shapes, empty images and too-small SSIM inputs throw")
    func badShapesThrow() throws {
        let a = Tensor(zeros: [2, 16, 16, 1]), b = Tensor(zeros: [2, 16, 15, 1])
        let error = #expect(throws: DAEError.self) { try ImageMetrics.mse(a, b) }
        #expect(error == .shapeMismatch("compared images", expected: [2, 16, 15, 1], actual: [2, 16, 16, 1]))
        #expect(throws: DAEError.self) { try ImageMetrics.psnr(a, b) }
        #expect(throws: DAEError.self) { try ImageMetrics.ssim(a, b) }
        #expect(throws: DAEError.self) { try QualityReport.compare(a, to: b) }

        let empty = Tensor(zeros: [0, 16, 16, 1])
        #expect(throws: DAEError.self) { try ImageMetrics.mse(empty, empty) }
        #expect(throws: DAEError.self) { try ImageMetrics.psnr(empty, empty) }
        #expect(throws: DAEError.self) { try ImageMetrics.ssim(empty, empty) }

        let small = Tensor(zeros: [1, 8, 8, 1])
        let smallError = #expect(throws: DAEError.self) { try ImageMetrics.ssim(small, small) }
        #expect(smallError?.description.contains("at least 11x11") == true)
        #expect(try QualityReport.compare(small, to: small).ssim == nil, "no SSIM below the window size")
    }

    @Test("a quality report round-trips through JSON")
    func reportCodable() throws {
        let report = QualityReport(mse: 0.01, psnr: 20, ssim: 0.8)
        #expect(try JSONDecoder().decode(QualityReport.self, from: JSONEncoder().encode(report)) == report)
    }
}
