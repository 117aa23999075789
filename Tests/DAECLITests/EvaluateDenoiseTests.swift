import DAEFiles
import DAEImageIO
import DAEKit
import Foundation
import Testing

/// `dae evaluate`, `dae denoise` and `dae summary` on a model trained by the fixtures.
@Suite(.enabled(if: CLITool.isBuilt, "the dae binary is not built: run 'swift build --product dae' first"))
struct EvaluateDenoiseTests {
    @Test func evaluatePrintsTheTableAndJSON() throws {
        let result = try CLITool.run(["evaluate", "--model", try Fixtures.modelURL().path, "--data", try Fixtures.dataDirectory().path,
                                      "--std", "0.5,1.0", "--json", "--workers", "1"])
        try #require(result.status == 0, "\(result.diagnostics)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data((result.stdoutLines.last ?? "").utf8)) as? [String: Any])
        #expect((object["testImages"] as? NSNumber)?.intValue == Fixtures.testCount)
        let rows = try #require(object["robustness"] as? [[String: Any]])
        #expect(rows.compactMap { ($0["std"] as? NSNumber)?.doubleValue } == [0.5, 1.0])
        for row in rows {
            let noisy = try #require((row["noisyPSNR"] as? NSNumber)?.doubleValue)
            let denoised = try #require((row["psnr"] as? NSNumber)?.doubleValue)
            #expect(noisy.isFinite && denoised.isFinite && denoised > 0)
            let ssim = (row["ssim"] as? NSNumber)?.doubleValue ?? .nan
            #expect(ssim.isFinite)
        }
        #expect(result.stdout.contains("noisy PSNR"))
    }

    /// Denoises a PNG and checks the output's size and values.
    private func denoise(width: Int, height: Int, channels: Int) throws {
        try withTemporaryDirectory("denoise") { directory in
            let input = directory.appendingPathComponent("in-\(width)x\(height).png")
            try Fixtures.writePNG(width: width, height: height, channels: channels, to: input)
            let output = directory.appendingPathComponent("out")
            let result = try CLITool.run(["denoise", "--model", try Fixtures.modelURL().path, input.path,
                                          "--output", output.path, "--workers", "1"])
            try #require(result.status == 0, "\(result.diagnostics)")
            let image = try PNG.read(contentsOf: output.appendingPathComponent("in-\(width)x\(height)-denoised.png"))
            #expect(image.width == width && image.height == height)
            #expect(image.channels == 1, "the model is gray, so is its output")
            #expect(Set(image.pixels).count > 1, "the output should not be one flat value")
        }
    }

    @Test func denoisesAnImageOfTheModelsSize() throws {
        try denoise(width: 28, height: 28, channels: 1)
    }

    @Test func denoisesALargerColourImageTileByTile() throws {
        try denoise(width: 61, height: 45, channels: 3)
    }

    @Test func padsASmallerImage() throws {
        try denoise(width: 20, height: 12, channels: 1)
    }

    @Test func summaryDescribesTheDefaultAndASavedModel() throws {
        let fresh = try CLITool.run(["summary"])
        #expect(fresh.status == 0 && fresh.stdout.contains("Total params: 178,001"), "\(fresh.diagnostics)")
        let saved = try CLITool.run(["summary", "--model", try Fixtures.modelURL().path])
        #expect(saved.status == 0 && saved.stdout.contains("Trained epochs: 1"), "\(saved.diagnostics)")
        let wide = try CLITool.run(["summary", "--filters", "8,16,32", "--input-shape", "32,32,3"])
        #expect(wide.status == 0 && wide.stdout.contains("(None, 32, 32, 3)"), "\(wide.diagnostics)")
    }

    @Test(arguments: ["demo", "train", "evaluate", "denoise", "summary", "fetch"])
    func everyCommandHasHelpWithExamples(_ command: String) throws {
        let result = try CLITool.run([command, "--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("Examples:"), "\(result.diagnostics)")
        #expect(result.stdout.contains("dae \(command)"))
    }

    @Test func rootHelpDocumentsTheDataSearch() throws {
        let result = try CLITool.run(["--help"])
        #expect(result.status == 0)
        for fragment in ["DAE_DATA", ".cache/dae/mnist", "/usr/share/datasets/fashion-mnist"] {
            #expect(result.stdout.contains(fragment), "help lacks \(fragment)")
        }
    }
}

/// `--model` with a weights-only file, as another framework writes it.
@Suite(.enabled(if: CLITool.isBuilt, "the dae binary is not built: run 'swift build --product dae' first"))
struct WeightsOnlyModelCLITests {
    @Test func summaryAndDenoiseAcceptAWeightsOnlyFileAndSayWhatWasInferred() throws {
        try withTemporaryDirectory("weights-only") { directory in
            let trained = try DenoisingAutoencoder(contentsOf: try Fixtures.modelURL())
            let weights = directory.appendingPathComponent("weights.safetensors")
            try SafetensorsFile(tensors: trained.parameters).write(to: weights)

            let summary = try CLITool.run(["summary", "--model", weights.path])
            try #require(summary.status == 0, "\(summary.diagnostics)")
            #expect(summary.stderr.contains("holds weights only"), "\(summary.diagnostics)")
            #expect(summary.stderr.contains("input 28x28x1 (from encoder.latent.kernel [3136, 16]"), "\(summary.diagnostics)")
            #expect(summary.stdout.contains("Total params: 178,001"))

            let input = directory.appendingPathComponent("digit.png")
            try Fixtures.writePNG(width: 28, height: 28, channels: 1, to: input)
            let output = directory.appendingPathComponent("out")
            let denoise = try CLITool.run(["denoise", "--model", weights.path, input.path, "--output", output.path,
                                           "--input-shape", "28,28,1", "--workers", "1"])
            try #require(denoise.status == 0, "\(denoise.diagnostics)")
            #expect(denoise.stderr.contains("input 28x28x1 (given)"), "\(denoise.diagnostics)")
            #expect(FileManager.default.fileExists(atPath: output.appendingPathComponent("digit-denoised.png").path))
        }
    }
}
