import DAEImageIO
import DAEKit
import Foundation
import Testing

/// A gray picture in an RGB file: the chroma test, the chroma noise estimate,
/// and the built-in denoiser's gray path for it.
@Suite("Gray pictures in colour files")
struct GrayContentTests {
    /// A textured gray picture (`width × height`, values in [0.338, 0.662]; a
    /// fine checker of ±3 levels raises the plain estimate) as
    /// RGB: R = G = B = gray + `tint` per channel, then noise of std `sigma`
    /// drawn in each channel (`shared`: one draw for all three), clipped.
    static func grayPicture(width: Int, height: Int, sigma: Float, shared: Bool = false, tint: (Float, Float, Float) = (0, 0, 0),
                            seed: UInt64 = 1) -> [Float] {
        var rng = SplitMix64(seed: seed)
        var pixels = [Float]()
        pixels.reserveCapacity(width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                // Stripes and a fine checker: texture that raises a plain noise estimate.
                let gray = 0.5 + 0.15 * Float(sin(Double(x) * 1.3 + Double(y) * 0.4)) + ((x + y) % 2 == 0 ? 0.012 : -0.012)
                let common = sigma * Float(rng.nextGaussian())
                for (c, offset) in [tint.0, tint.1, tint.2].enumerated() {
                    let noise = shared ? common : (c == 0 ? common : sigma * Float(rng.nextGaussian()))
                    pixels.append(min(max(gray + offset + noise, 0), 1))
                }
            }
        }
        return pixels
    }

    static func test(_ pixels: [Float], width: Int, height: Int, chunk: Int? = nil) -> GrayContentTest {
        var test = GrayContentTest(width: width)
        pixels.withUnsafeBufferPointer { p in
            let step = chunk ?? height
            for top in stride(from: 0, to: height, by: step) {
                test.add(rows: p.baseAddress! + top * width * 3, rowCount: min(step, height - top))
            }
        }
        return test
    }

    @Test("the chroma estimate is the channels' noise std on a textured gray picture, where the plain estimate errs high",
          arguments: [10, 25, 50] as [Float])
    func chromaEstimate(_ sigma255: Float) throws {
        let sigma = sigma255 / 255, (width, height) = (256, 192)
        let pixels = Self.grayPicture(width: width, height: height, sigma: sigma)
        var chroma = NoiseLevelEstimator()
        pixels.withUnsafeBufferPointer { chroma.addChroma(rows: $0.baseAddress!, rowCount: height, width: width) }
        let estimate = try #require(chroma.estimate)
        // Within 5%, 8% at σ 50, where clipping leaves fewer blocks to measure.
        #expect(abs(estimate - sigma) < (sigma255 < 50 ? 0.05 : 0.08) * sigma, "σ \(sigma255): chroma estimate \(estimate * 255)")
        let plain = pixels.withUnsafeBufferPointer { NoiseLevelEstimator.estimate($0, height: height, width: width, channels: 3) }
        #expect(plain > estimate && (sigma255 > 10 || plain > 1.1 * sigma), "the texture should raise the plain estimate (\(plain * 255))")
    }

    @Test("noise drawn per channel: gray, the mean's level σ/√3; chunks of rows give the same verdict",
          arguments: [10, 25, 50] as [Float])
    func independentNoise(_ sigma255: Float) throws {
        let sigma = sigma255 / 255, (width, height) = (256, 192)
        let pixels = Self.grayPicture(width: width, height: height, sigma: sigma)
        let test = Self.test(pixels, width: width, height: height)
        let statistic = try #require(test.statistic)
        #expect(abs(statistic - 1) < 0.1, "white chroma noise: T \(statistic)")
        let verdict = try #require(test.verdict, "a gray picture under noise drawn per channel")
        #expect(!verdict.noiseShared)
        #expect(abs(verdict.noiseLevel - sigma / Float(3).squareRoot()) < (sigma255 < 50 ? 0.05 : 0.08) * sigma / Float(3).squareRoot())
        #expect(verdict.meanNoiseLevel(forChannelNoiseLevel: 0.3) == 0.3 / Float(3).squareRoot())
        for chunk in [6, 10, 16] {
            let streamed = Self.test(pixels, width: width, height: height, chunk: chunk)
            #expect(streamed.verdict == verdict && streamed.statistic == statistic, "chunks of \(chunk) rows")
        }
        // A width that is no multiple of 8 (the last 3 columns are in no block).
        let odd = Self.grayPicture(width: 131, height: 150, sigma: sigma, seed: 7)
        let oddVerdict = try #require(Self.test(odd, width: 131, height: 150).verdict)
        #expect(abs(oddVerdict.noiseLevel - sigma / Float(3).squareRoot()) < 0.08 * sigma / Float(3).squareRoot())
    }

    @Test("noise shared by the channels (R = G = B): gray, the mean's own level, a given level as it is")
    func sharedNoise() throws {
        let sigma: Float = 20 / 255, (width, height) = (160, 96)
        let pixels = Self.grayPicture(width: width, height: height, sigma: sigma, shared: true)
        let verdict = try #require(Self.test(pixels, width: width, height: height).verdict)
        #expect(verdict.noiseShared)
        #expect(verdict.noiseLevel >= 0.95 * sigma, "the mean holds all of shared noise: \(verdict.noiseLevel * 255)")
        #expect(verdict.noiseLevel == Self.test(pixels, width: width, height: height).channelNoiseLevel)
        #expect(verdict.meanNoiseLevel(forChannelNoiseLevel: 0.3) == 0.3)
        // A clean gray picture in RGB too.
        #expect(Self.test(Self.grayPicture(width: width, height: height, sigma: 0), width: width, height: height).verdict?.noiseShared == true)
    }

    @Test("colour is colour: a coloured picture, a faint uniform tint, a tinted stripe, a small coloured patch, a clean coloured picture; a dark picture's clipping, an image too small")
    func colourIsNotGray() throws {
        let sigma: Float = 25 / 255, (width, height) = (256, 192)
        var coloured = Self.grayPicture(width: width, height: height, sigma: sigma)
        for i in stride(from: 0, to: coloured.count, by: 3) { coloured[i] = min(coloured[i] * 1.3, 1) }
        #expect(Self.test(coloured, width: width, height: height).verdict == nil)
        // A sepia-like tint of 4 levels in R and −4 in B: a small fraction of the noise, but everywhere.
        let tinted = Self.grayPicture(width: width, height: height, sigma: sigma, tint: (4 / 255, 0, -4 / 255))
        #expect(Self.test(tinted, width: width, height: height).verdict == nil)
        // Colour in one band of rows only.
        var stripe = Self.grayPicture(width: width, height: height, sigma: sigma)
        for i in stride(from: 0, to: 32 * width * 3, by: 3) { stripe[i + 2] = min(stripe[i + 2] + 0.1, 1) }
        #expect(Self.test(stripe, width: width, height: height).verdict == nil)
        // A 16×16 patch of colour (R + 0.15) in a 512×512 gray picture: T barely moves, the patch's blocks do.
        var patch = Self.grayPicture(width: 512, height: 512, sigma: sigma, seed: 5)
        for y in 200..<216 { for x in 304..<320 { patch[3 * (y * 512 + x)] = min(patch[3 * (y * 512 + x)] + 0.15, 1) } }
        let patchTest = Self.test(patch, width: 512, height: 512)
        #expect(try #require(patchTest.statistic) < 1.1 && patchTest.verdict == nil)
        #expect(try #require(patchTest.largestDeviation) > 7)
        #expect(Self.test(Self.grayPicture(width: 512, height: 512, sigma: sigma, seed: 5), width: 512, height: 512).verdict != nil)
        var clean = Self.grayPicture(width: width, height: height, sigma: 0)
        for i in stride(from: 0, to: clean.count, by: 3) { clean[i] *= 0.9 }
        #expect(Self.test(clean, width: width, height: height).verdict == nil)
        // A dark gray picture under strong noise: more than a tenth of the samples clipped at 0.
        let dark = Self.grayPicture(width: width, height: height, sigma: sigma, tint: (-0.4, -0.4, -0.4))
        let darkTest = Self.test(dark, width: width, height: height)
        #expect(darkTest.clippedFraction > 0.1 && darkTest.verdict == nil)
        #expect(Self.test(Self.grayPicture(width: width, height: height, sigma: sigma), width: width, height: height).clippedFraction < 0.01)
        // 15 blocks of 8×8: too few to tell.
        let small = Self.grayPicture(width: 40, height: 24, sigma: sigma)
        #expect(Self.test(small, width: 40, height: 24).verdict == nil)
    }

    /// Writes `pixels` (RGB, [0, 1]) as an 8-bit or 16-bit PNG.
    static func writePNG(_ pixels: [Float], width: Int, height: Int, bitDepth: Int, to url: URL) throws {
        let writer = try PNGRowWriter(url: url, width: width, height: height, channels: 3, bitDepth: bitDepth)
        if bitDepth == 16 {
            try pixels.map { UInt16(($0 * 65535).rounded()) }.withUnsafeBufferPointer { try writer.write(rows: $0, count: height) }
        } else {
            try pixels.map(Image.byte(from:)).withUnsafeBufferPointer { try writer.write(rows: $0, count: height) }
        }
        try writer.finish()
    }

    @Test("the built-in denoiser: a gray picture in RGB goes through the gray model as its channels' mean, back to RGB, bit for bit the in-memory result; 8 and 16 bits",
          arguments: [8, 16])
    func builtInGrayPath(bitDepth: Int) throws {
        try withTemporaryDirectory { directory in
            let (width, height) = (131, 150), sigma: Float = 25 / 255
            let pixels = Self.grayPicture(width: width, height: height, sigma: sigma, seed: 3)
            let input = directory.appendingPathComponent("scan.png"), output = directory.appendingPathComponent("scan-denoised.png")
            try Self.writePNG(pixels, width: width, height: height, bitDepth: bitDepth, to: input)
            var denoiser = BuiltInPhotoDenoiser(workers: 2)
            let report = try denoiser.denoiseImageFile(at: FileSystemPath(input), to: output)
            #expect(report.grayContent && report.channels == 1 && report.outputBitDepth == bitDepth)
            let level = try #require(report.noiseLevel)
            #expect(abs(level - sigma / Float(3).squareRoot()) < 0.1 * sigma)

            // The same as the gray model on the mean of the file's samples, in memory, repeated in R, G and B.
            let reader = try ImageReader(contentsOf: input)
            var samples = [Float](repeating: 0, count: width * height * 3)
            try reader.readRows(height, channels: 3, into: &samples)
            var mean = [Float](repeating: 0, count: width * height)
            for p in mean.indices { mean[p] = (samples[3 * p] + samples[3 * p + 1] + samples[3 * p + 2]) / 3 }
            let gray = try denoiser.model(.photoGray)
            let expected = try gray.denoise(Tensor(shape: [1, height, width, 1], scalars: mean), noiseLevel: level).scalars
            let written = try ImageReader(contentsOf: output)
            #expect(written.channels == 3 && written.sourceBitDepth == bitDepth)
            var values = [Float](repeating: 0, count: width * height * 3)
            try written.readRows(height, channels: 3, into: &values)
            let scale: Float = bitDepth == 16 ? 65535 : 255
            let got = values.map { Int(($0 * scale).rounded()) }
            let want = expected.flatMap { value in Array(repeating: Int((min(max(value, 0), 1) * scale).rounded()), count: 3) }
            #expect(got == want)

            // Told the channels' σ, the mean gets σ/√3.
            let told = try denoiser.denoiseImageFile(at: FileSystemPath(input), to: output, noiseLevel: 0.3)
            #expect(told.grayContent && told.noiseLevel == 0.3 / Float(3).squareRoot())
        }
    }

    @Test("the built-in denoiser: a colour picture goes through the colour model, as the model's own file denoiser does")
    func builtInColourPath() throws {
        try withTemporaryDirectory { directory in
            let (width, height) = (96, 80)
            var pixels = Self.grayPicture(width: width, height: height, sigma: 20 / 255, seed: 4)
            for i in stride(from: 1, to: pixels.count, by: 3) { pixels[i] = min(pixels[i] * 0.7 + 0.2, 1) }
            let input = directory.appendingPathComponent("colour.png")
            try Self.writePNG(pixels, width: width, height: height, bitDepth: 8, to: input)
            var denoiser = BuiltInPhotoDenoiser(workers: 2)
            let (mine, theirs) = (directory.appendingPathComponent("a.png"), directory.appendingPathComponent("b.png"))
            let report = try denoiser.denoiseImageFile(at: FileSystemPath(input), to: mine)
            #expect(!report.grayContent && report.channels == 3)
            let direct = try denoiser.model(.photo).denoiseImageFile(input, to: theirs, noiseLevel: nil)
            #expect(report.noiseLevel == direct.noiseLevel)
            #expect(try Data(contentsOf: mine) == Data(contentsOf: theirs))
        }
    }
}
