import DAEImageIO
import DAEKit
import Foundation
import Testing

/// `dae demo` end to end on the synthetic data set.
@Suite(.enabled(if: CLITool.isBuilt, "the dae binary is not built: run 'swift build --product dae' first"))
struct DemoTests {
    @Test func demoWritesFiguresModelAndJSON() throws {
        let data = try Fixtures.dataDirectory()
        try withTemporaryDirectory("demo") { directory in
            let output = directory.appendingPathComponent("out")
            let result = try CLITool.run(["demo", "--data", data.path, "--limit", "512", "--epochs", "1",
                                          "--output", output.path, "--json", "--workers", "1"])
            try #require(result.status == 0, "\(result.diagnostics)")
            #expect(result.stderr.contains("data: \(data.path)"), "stderr should say which data it uses")

            // The tutorial's figure: 9 rows x 9 columns of 28x28 tiles, gray.
            let figure = try PNG.read(contentsOf: output.appendingPathComponent("denoised.png"))
            #expect(figure.width == 9 * 28 && figure.height == 9 * 28 && figure.channels == 1)
            #expect(Set(figure.pixels).count > 10, "the figure should not be flat")

            // The robustness figure: originals, then noisy + denoised rows for 3 levels.
            let robustness = try PNG.read(contentsOf: output.appendingPathComponent("robustness.png"))
            #expect(robustness.height == 28 + 3 * (ImageGrid.separatorThickness + 2 * 28))
            #expect(robustness.width >= 9 * 28)

            let model = try DenoisingAutoencoder(contentsOf: output.appendingPathComponent("model.safetensors"))
            #expect(model.epochsCompleted == 1)
            #expect(model.configuration == DenoisingAutoencoder.Configuration())

            // The last line of standard output is the JSON object of the issue.
            let last = try #require(result.stdoutLines.last)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
            #expect(object["dataset"] != nil)
            let history = try #require(object["history"] as? [[String: Any]])
            #expect(history.count == 1)
            for key in ["epoch", "trainLoss", "valLoss", "seconds", "samplesPerSecond"] {
                #expect(history.first?[key] is NSNumber, "history lacks \(key)")
            }
            let table = try #require(object["robustness"] as? [[String: Any]])
            #expect(table.compactMap { ($0["std"] as? NSNumber)?.doubleValue } == [0.5, 0.75, 1.0])
            for row in table {
                for key in ["std", "noisyMSE", "noisyPSNR", "noisySSIM", "mse", "psnr", "ssim"] {
                    #expect(row[key] is NSNumber, "robustness row lacks \(key)")
                }
            }
            // The tutorial's outputs; the built-in photo denoiser is not measured on it.
            #expect((object["outputs"] as? [String: String])?.keys.sorted() == ["denoised", "model", "robustness"])
            #expect(object["builtInRobustness"] == nil)
            // The human-readable table is printed too.
            #expect(result.stdout.contains("denoised PSNR"))
        }
    }
}
