import DAEImageIO
import DAEKit
import Foundation
import Testing

/// `dae denoise` with no --model: the built-in photo denoiser, its noise level, and its safety checks.
@Suite(.enabled(if: CLITool.isBuilt, "the dae binary is not built: run 'swift build --product dae' first"))
struct BuiltInDenoiserCLITests {
    /// A noisy colour photograph-like PNG of `width × height`.
    static func noisyPNG(width: Int, height: Int, sigma: Float, to url: URL) throws {
        var pixels = [Float]()
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<3 { pixels.append(0.5 + 0.3 * Float(sin(Double(x) / 13 + Double(c)) * cos(Double(y) / 9))) }
            }
        }
        let noisy = NoiseModel.photo(std: sigma).applied(to: Tensor(shape: [1, height, width, 3], scalars: pixels), seed: 5)
        try PNG.write(try Image(width: width, height: height, channels: 3, pixels: noisy.scalars.map(Image.byte(from:))), to: url)
    }

    /// A folder `photos` in `directory` holding `count` such PNGs, `p0.png`, `p1.png`, … (noise σ 0.05).
    static func photoFolder(in directory: URL, count: Int, width: Int, height: Int) throws -> URL {
        let photos = directory.appendingPathComponent("photos")
        try FileManager.default.createDirectory(at: photos, withIntermediateDirectories: true)
        for i in 0..<count { try noisyPNG(width: width, height: height, sigma: 0.05, to: photos.appendingPathComponent("p\(i).png")) }
        return photos
    }

    @Test("no --model: the built-in denoiser runs, estimates σ and prints it, and removes noise")
    func denoisesWithTheBuiltInModel() throws {
        try withTemporaryDirectory("builtin") { directory in
            let input = directory.appendingPathComponent("photo.png")
            try Self.noisyPNG(width: 97, height: 64, sigma: 25 / 255, to: input)
            let result = try CLITool.run(["denoise", input.path, "--output", directory.path, "--workers", "1"])
            try #require(result.status == 0, "\(result.diagnostics)")
            #expect(result.stderr.contains("built-in photo denoiser"))
            #expect(result.stdout.contains("(estimated)"))
            let output = try PNG.read(contentsOf: directory.appendingPathComponent("photo-denoised.png"))
            #expect(output.width == 97 && output.height == 64 && output.channels == 3)
            // Against the clean image, the output is closer than the input.
            var clean = [Float]()
            for y in 0..<64 { for x in 0..<97 { for c in 0..<3 { clean.append(0.5 + 0.3 * Float(sin(Double(x) / 13 + Double(c)) * cos(Double(y) / 9))) } } }
            let noisy = try PNG.read(contentsOf: input)
            func mse(_ pixels: [UInt8]) -> Double {
                zip(pixels, clean).reduce(0) { $0 + pow(Double($1.0) / 255 - Double($1.1), 2) } / Double(clean.count)
            }
            #expect(mse(output.pixels) < mse(noisy.pixels) / 2)
        }
    }

    @Test("no --model: a gray file gets the gray model and stays gray, a colour one the colour model")
    func picksTheModelByTheFilesChannels() throws {
        try withTemporaryDirectory("builtin-gray") { directory in
            let colour = directory.appendingPathComponent("colour.png"), gray = directory.appendingPathComponent("gray.png")
            try Self.noisyPNG(width: 40, height: 30, sigma: 25 / 255, to: colour)
            let rgb = try PNG.read(contentsOf: colour)
            var luma = [UInt8]()
            for pixel in 0..<(40 * 30) {
                let (r, g, b) = (rgb.pixels[3 * pixel], rgb.pixels[3 * pixel + 1], rgb.pixels[3 * pixel + 2])
                luma.append(PixelConversion.luma(r, g, b))
            }
            try PNG.write(try Image(width: 40, height: 30, channels: 1, pixels: luma), to: gray)
            let output = directory.appendingPathComponent("out")
            let result = try CLITool.run(["denoise", gray.path, colour.path, "--output", output.path, "--workers", "1"])
            try #require(result.status == 0, "\(result.diagnostics)")
            #expect(result.stderr.contains("built-in photo denoiser, gray") && result.stderr.contains("built-in photo denoiser, colour"))
            #expect(try PNG.read(contentsOf: output.appendingPathComponent("gray-denoised.png")).channels == 1)
            #expect(try PNG.read(contentsOf: output.appendingPathComponent("colour-denoised.png")).channels == 3)
        }
    }

    @Test("no --model: a gray picture in an RGB file (noise drawn per channel) is denoised as gray, says so, and stays RGB")
    func grayPictureInColour() throws {
        try withTemporaryDirectory("builtin-gray-content") { directory in
            let (width, height) = (96, 64)
            var rng = SplitMix64(seed: 9)
            var pixels = [UInt8]()
            for y in 0..<height {
                for x in 0..<width {
                    let gray = 0.5 + 0.3 * sin(Double(x) / 7) * cos(Double(y) / 5)
                    for _ in 0..<3 { pixels.append(Image.byte(from: Float(gray + 20.0 / 255 * rng.nextGaussian()))) }
                }
            }
            let input = directory.appendingPathComponent("scan.png")
            try PNG.write(try Image(width: width, height: height, channels: 3, pixels: pixels), to: input)
            let result = try CLITool.run(["denoise", input.path, "--output", directory.path, "--workers", "1"])
            try #require(result.status == 0, "\(result.diagnostics)")
            #expect(result.stderr.contains("built-in photo denoiser, gray"))
            #expect(result.stdout.contains("a gray picture: its channels' mean by the gray model"))
            #expect(result.stdout.contains("(estimated) in the channels' mean"))
            let output = try PNG.read(contentsOf: directory.appendingPathComponent("scan-denoised.png"))
            #expect(output.channels == 3 && output.width == width && output.height == height)
            let written = output.pixels
            var grayPixels = 0
            for p in 0..<(width * height) where written[3 * p] == written[3 * p + 1] && written[3 * p] == written[3 * p + 2] { grayPixels += 1 }
            #expect(grayPixels == width * height, "R = G = B in every pixel")
            // Closer to the clean picture than the input.
            func mse(_ values: [UInt8]) -> Double {
                var sum = 0.0
                for y in 0..<height {
                    for x in 0..<width {
                        let clean = 0.5 + 0.3 * sin(Double(x) / 7) * cos(Double(y) / 5)
                        for c in 0..<3 { sum += pow(Double(values[3 * (y * width + x) + c]) / 255 - clean, 2) }
                    }
                }
                return sum / Double(3 * width * height)
            }
            #expect(mse(written) < mse(pixels) / 2)
        }
    }

    @Test("--sigma sets the strength: another level gives another image; a bad value is refused")
    func sigmaSetsTheStrength() throws {
        try withTemporaryDirectory("builtin-sigma") { directory in
            let input = directory.appendingPathComponent("p.png")
            try Self.noisyPNG(width: 40, height: 30, sigma: 15 / 255, to: input)
            let low = directory.appendingPathComponent("low"), high = directory.appendingPathComponent("high")
            let a = try CLITool.run(["denoise", input.path, "--sigma", "5", "--output", low.path, "--workers", "1"])
            let b = try CLITool.run(["denoise", input.path, "--sigma", "50", "--output", high.path, "--workers", "1"])
            try #require(a.status == 0 && b.status == 0, "\(a.diagnostics) \(b.diagnostics)")
            #expect(a.stdout.contains("noise σ 5.0") && b.stdout.contains("noise σ 50.0"))
            let first = try PNG.read(contentsOf: low.appendingPathComponent("p-denoised.png"))
            let second = try PNG.read(contentsOf: high.appendingPathComponent("p-denoised.png"))
            #expect(first.pixels != second.pixels)
            let bad = try CLITool.run(["denoise", input.path, "--sigma", "300"])
            CLITool.expectOneLineError(bad, containing: ["--sigma"])
        }
    }

    @Test("an input that is another input's output is refused before anything is written")
    func refusesToOverwriteAnInput() throws {
        try withTemporaryDirectory("builtin-collide") { directory in
            let a = directory.appendingPathComponent("a.png"), b = directory.appendingPathComponent("a-denoised.png")
            try Self.noisyPNG(width: 20, height: 20, sigma: 0.1, to: a)
            try Self.noisyPNG(width: 20, height: 20, sigma: 0.2, to: b)
            let before = try Data(contentsOf: b)
            let result = try CLITool.run(["denoise", a.path, b.path, "--output", directory.path])
            CLITool.expectOneLineError(result, containing: ["one of the inputs"])
            #expect(try Data(contentsOf: b) == before)
        }
    }

    @Test("--output named like an image file is refused unless that directory exists (it is a directory, not the result's name)")
    func refusesAnOutputNamedLikeAnImage() throws {
        try withTemporaryDirectory("builtin-output-name") { directory in
            let input = directory.appendingPathComponent("in.png")
            try Self.noisyPNG(width: 20, height: 20, sigma: 0.1, to: input)
            for name in ["cleaned.png", "cleaned.JPG"] {
                let output = directory.appendingPathComponent(name)
                let result = try CLITool.run(["denoise", input.path, "--output", output.path, "--workers", "1"])
                CLITool.expectOneLineError(result, containing: ["--output \(output.path) looks like an image file's name",
                                                                "give a directory, e.g. --output \(directory.path)"])
                #expect(!FileManager.default.fileExists(atPath: output.path), "nothing is created")
            }
            // A directory that exists is used whatever its name.
            let existing = directory.appendingPathComponent("album.png")
            try FileManager.default.createDirectory(at: existing, withIntermediateDirectories: false)
            let result = try CLITool.run(["denoise", input.path, "--output", existing.path, "--workers", "1"])
            try #require(result.status == 0, "\(result.diagnostics)")
            #expect(FileManager.default.fileExists(atPath: existing.appendingPathComponent("in-denoised.png").path))
        }
    }

    @Test("dae export writes a model without optimizer state that loads and denoises the same")
    func exportKeepsTheWeights() throws {
        try withTemporaryDirectory("export") { directory in
            let exported = directory.appendingPathComponent("m.safetensors")
            let result = try CLITool.run(["export", try Fixtures.modelURL().path, exported.path])
            try #require(result.status == 0, "\(result.diagnostics)")
            let original = try DenoisingAutoencoder(contentsOf: try Fixtures.modelURL())
            let loaded = try DenoisingAutoencoder(contentsOf: exported)
            #expect(loaded.parameters == original.parameters && loaded.optimizer.step == 0)
            let exportedSize = try #require(try FileManager.default.attributesOfItem(atPath: exported.path)[.size] as? Int)
            let checkpointSize = try #require(try FileManager.default.attributesOfItem(atPath: try Fixtures.modelURL().path)[.size] as? Int)
            #expect(exportedSize < checkpointSize)
            let again = try CLITool.run(["export", try Fixtures.modelURL().path, exported.path])
            CLITool.expectOneLineError(again, containing: ["--force"])
        }
    }

    @Test("demo --json: builtInRobustness is null for a gray folder (the built-in model is colour)")
    func builtInRobustnessInTheDemoReport() throws {
        try withTemporaryDirectory("builtin-gray-demo") { directory in
            let photos = try Self.photoFolder(in: directory, count: 3, width: 48, height: 40)
            let output = directory.appendingPathComponent("out")
            let result = try CLITool.run(["demo", "--images", photos.path, "--channels", "1", "--output", output.path, "--epochs", "1",
                                          "--patches-per-epoch", "16", "--patch-size", "16", "--validation-files", "1",
                                          "--workers", "1", "--json"])
            try #require(result.status == 0, "\(result.diagnostics)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data((result.stdoutLines.last ?? "").utf8)) as? [String: Any])
            #expect(object["builtInRobustness"] is NSNull)
            #expect((object["outputs"] as? [String: String])?.keys.sorted() == ["denoised", "model"])
        }
    }
}


@Suite(.enabled(if: CLITool.isBuilt, "the dae binary is not built: run 'swift build --product dae' first"))
struct BuiltInDenoiserGrayTests {
    @Test("a gray photograph comes back gray from the gray built-in model, with most of its noise gone")
    func grayStaysGray() throws {
        try withTemporaryDirectory("builtin-gray") { directory in
            var clean = [Float]()
            for y in 0..<48 { for x in 0..<64 { clean.append(0.5 + 0.3 * Float(sin(Double(x) / 11) * cos(Double(y) / 7))) } }
            let noisy = NoiseModel.photo(std: 25 / 255).applied(to: Tensor(shape: [1, 48, 64, 1], scalars: clean), seed: 3)
            let input = directory.appendingPathComponent("gray.png")
            try PNG.write(try Image(width: 64, height: 48, channels: 1, pixels: noisy.scalars.map(Image.byte(from:))), to: input)
            let result = try CLITool.run(["denoise", input.path, "--output", directory.path, "--workers", "1"])
            try #require(result.status == 0, "\(result.diagnostics)")
            let output = try PNG.read(contentsOf: directory.appendingPathComponent("gray-denoised.png"))
            #expect(output.channels == 1 && output.width == 64 && output.height == 48)
            func mse(_ pixels: [UInt8]) -> Double { zip(pixels, clean).reduce(0) { $0 + pow(Double($1.0) / 255 - Double($1.1), 2) } / Double(clean.count) }
            #expect(result.stderr.contains("built-in photo denoiser, gray"))
            #expect(mse(output.pixels) < mse(try PNG.read(contentsOf: input).pixels) / 2)
        }
    }
}
