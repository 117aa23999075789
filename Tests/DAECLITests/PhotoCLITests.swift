import DAEFiles
import DAEImageIO
import DAEKit
import Foundation
import Testing

/// A folder of small photographs (PNG and JPEG, of different sizes), made once.
enum PhotoFixtures {
    static func folder() throws -> URL {
        try FixtureCache.shared.value("photos") { directory in
            for (index, (width, height)) in [(64, 48), (50, 70), (72, 60), (48, 48), (66, 52)].enumerated() {
                let url = directory.appendingPathComponent("photo\(index).png")
                try Fixtures.writePNG(width: width, height: height, channels: 3, to: url)
                if index % 2 == 1 {  // every other one as JPEG
                    try JPEG.write(try PNG.read(contentsOf: url), to: directory.appendingPathComponent("photo\(index).jpg"), quality: 95)
                    try FileManager.default.removeItem(at: url)
                }
            }
            return directory
        }
    }

    /// `dae demo --images` with tiny settings, run once: its output directory and result.
    static func demo() throws -> (output: URL, result: CLITool.Result) {
        try demoRun.get()
    }

    /// Swift runs a static's initialiser once, whichever test asks first.
    private static let demoRun = Result<(output: URL, result: CLITool.Result), any Error> {
        let output = try FixtureCache.shared.value("photo-demo") { $0 }
        let result = try CLITool.run(["demo", "--images", try folder().path, "--output", output.path, "--epochs", "2",
                                      "--patches-per-epoch", "64", "--patch-size", "24", "--workers", "2", "--json"])
        return (output, result)
    }
}

/// The photo path of the command-line tool: `demo`, `train`, `evaluate` with `--images`, and `denoise` on JPEG.
@Suite(.enabled(if: CLITool.isBuilt, "the dae binary is not built: run 'swift build --product dae' first"))
struct PhotoCLITests {
    @Test func demoWritesTheModelFigureAndJSONTable() throws {
        let (output, result) = try PhotoFixtures.demo()
        try #require(result.status == 0, "\(result.diagnostics)")
        #expect(FileManager.default.fileExists(atPath: output.appendingPathComponent("model.safetensors").path))
        let figure = try PNG.read(contentsOf: output.appendingPathComponent("denoised.png"))
        #expect(figure.channels == 3 && figure.width > 3 * 48)
        #expect(result.stderr.contains("held out for validation: photo4.png"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data((result.stdoutLines.last ?? "").utf8)) as? [String: Any])
        #expect((object["history"] as? [[String: Any]])?.count == 2)
        let rows = try #require(object["robustness"] as? [[String: Any]])
        #expect(rows.compactMap { ($0["std"] as? NSNumber)?.doubleValue }.map { ($0 * 255).rounded() } == [15, 25, 50])
        // The built-in photo denoiser is measured on the same held-out images, and removes noise there.
        let builtIn = try #require(object["builtInRobustness"] as? [[String: Any]])
        #expect(builtIn.count == 3)
        for row in builtIn {
            // (The fixture's "clean" images carry their own pixel jitter, which σ 15 hardly exceeds.)
            let std = try #require((row["std"] as? NSNumber)?.doubleValue)
            let noisy = try #require((row["noisyPSNR"] as? NSNumber)?.doubleValue), denoised = try #require((row["psnr"] as? NSNumber)?.doubleValue)
            #expect(denoised.isFinite && (std * 255 < 40 || denoised > noisy + 3), "σ \(std * 255): \(noisy) → \(denoised) dB")
        }
        #expect(result.stdout.contains("The built-in photo denoiser"))
        for row in rows {
            for key in ["noisyPSNR", "psnr", "noisySSIM", "ssim"] {
                let value = try #require((row[key] as? NSNumber)?.doubleValue, "\(key) missing")
                #expect(value.isFinite)
            }
        }
    }

    @Test func theDemoModelLoadsEverywhereAndDenoisesJPEGOfAnySize() throws {
        let model = try PhotoFixtures.demo().output.appendingPathComponent("model.safetensors")
        let summary = try CLITool.run(["summary", "--model", model.path])
        try #require(summary.status == 0, "\(summary.diagnostics)")
        #expect(summary.stdout.contains("denoiser.output"))
        try withTemporaryDirectory("photo-denoise") { directory in
            let jpeg = directory.appendingPathComponent("wide.jpg")
            try Fixtures.writePNG(width: 301, height: 157, channels: 3, to: directory.appendingPathComponent("wide.png"))
            try JPEG.write(try PNG.read(contentsOf: directory.appendingPathComponent("wide.png")), to: jpeg)
            let bad = directory.appendingPathComponent("bad.jpg")
            try Data([0xFF, 0xD8, 0xFF, 0xDB, 0, 3]).write(to: bad)
            let out = directory.appendingPathComponent("out")
            let result = try CLITool.run(["denoise", "--model", model.path, bad.path, jpeg.path, "--output", out.path])
            // The bad file is reported, the good one still denoised, and the status says something failed.
            #expect(result.status == 1, "\(result.diagnostics)")
            #expect(result.stderr.contains("bad.jpg"))
            let image = try PNG.read(contentsOf: out.appendingPathComponent("wide-denoised.png"))
            #expect(image.width == 301 && image.height == 157 && image.channels == 3)
            #expect(try FileManager.default.contentsOfDirectory(atPath: out.path) == ["wide-denoised.png"])
            let loaded = try DenoisingAutoencoder(contentsOf: model)
            #expect(loaded.configuration.architecture == .residual)
        }
    }

    @Test func evaluateImagesGivesTheTableAtEachStd() throws {
        let model = try PhotoFixtures.demo().output.appendingPathComponent("model.safetensors")
        let result = try CLITool.run(["evaluate", "--model", model.path, "--images", try PhotoFixtures.folder().path,
                                      "--std", "0.1", "--json"])
        try #require(result.status == 0, "\(result.diagnostics)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data((result.stdoutLines.last ?? "").utf8)) as? [String: Any])
        #expect((object["images"] as? [String])?.count == 5)
        let rows = try #require(object["robustness"] as? [[String: Any]])
        #expect(rows.count == 1)
    }

    @Test func trainImagesResumesWithTheRecordedPatchSettings() throws {
        try withTemporaryDirectory("photo-train") { directory in
            let checkpoint = directory.appendingPathComponent("photo.safetensors").path
            let common = ["train", "--images", try PhotoFixtures.folder().path, "--checkpoint", checkpoint, "--workers", "1"]
            let first = try CLITool.run(common + ["--epochs", "1", "--patch-size", "24", "--patches-per-epoch", "32"])
            try #require(first.status == 0, "\(first.diagnostics)")
            let conflicting = try CLITool.run(common + ["--epochs", "2", "--resume", "--patch-size", "32"])
            CLITool.expectOneLineError(conflicting, containing: ["--patch-size 32"])
            let second = try CLITool.run(common + ["--epochs", "2", "--resume", "--json"])
            try #require(second.status == 0, "\(second.diagnostics)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data((second.stdoutLines.last ?? "").utf8)) as? [String: Any])
            #expect((object["epochs"] as? NSNumber)?.intValue == 2)
            #expect((object["patchSize"] as? NSNumber)?.intValue == 24)
        }
    }

    @Test func aDeeperRunStartsFromAShallowerModelDeepened() throws {
        try withTemporaryDirectory("deep-start") { directory in
            let shallow = directory.appendingPathComponent("builtin.safetensors")
            try DenoisingAutoencoder(configuration: .builtInPhoto(channels: 3), seed: 2).save(to: shallow)
            let checkpoint = directory.appendingPathComponent("deep.safetensors").path
            let run = try CLITool.run(["train", "--images", try PhotoFixtures.folder().path, "--checkpoint", checkpoint,
                                       "--workers", "1", "--preset", "builtin-deep", "--epochs", "1", "--patch-size", "24",
                                       "--patches-per-epoch", "32", "--initial-weights", shallow.path, "--winograd"])
            try #require(run.status == 0, "\(run.diagnostics)")
            #expect(run.stderr.contains("deepened from 9 to 16 hidden layers"))
            let trained = try DenoisingAutoencoder(contentsOf: URL(fileURLWithPath: checkpoint))
            #expect(trained.configuration.layerFilters == Array(repeating: 48, count: 16))
            // A deeper model does not start a shallower run.
            let refused = try CLITool.run(["train", "--images", try PhotoFixtures.folder().path, "--checkpoint",
                                           directory.appendingPathComponent("other.safetensors").path, "--workers", "1",
                                           "--preset", "builtin", "--epochs", "1", "--patch-size", "24", "--patches-per-epoch", "32",
                                           "--initial-weights", checkpoint])
            CLITool.expectOneLineError(refused, containing: ["--initial-weights", "architecture"])
        }
    }

    @Test func aGrayRunStartsFromAColourModelsWeights() throws {
        try withTemporaryDirectory("gray-start") { directory in
            let colour = directory.appendingPathComponent("colour.safetensors")
            try DenoisingAutoencoder(configuration: .builtInPhoto(channels: 3), seed: 2).save(to: colour)
            let checkpoint = directory.appendingPathComponent("gray.safetensors").path
            let common = ["train", "--images", try PhotoFixtures.folder().path, "--checkpoint", checkpoint, "--workers", "1",
                          "--channels", "1", "--preset", "builtin"]
            let first = try CLITool.run(common + ["--epochs", "1", "--patch-size", "24", "--patches-per-epoch", "32",
                                                  "--initial-weights", colour.path, "--learning-rate", "0.0002"])
            try #require(first.status == 0, "\(first.diagnostics)")
            #expect(first.stderr.contains("converted to gray"))
            let trained = try DenoisingAutoencoder(contentsOf: URL(fileURLWithPath: checkpoint))
            #expect(trained.configuration.inputShape == [24, 24, 1] && trained.configuration.optimizer.learningRate == 0.0002)
            let recipe = try #require(trained.applicationMetadata.values.first { $0.contains("initialWeights") })
            #expect(recipe.contains("colour.safetensors, sha256 "))
            // Resuming keeps the start and the rate; naming them again is refused.
            CLITool.expectOneLineError(try CLITool.run(common + ["--epochs", "2", "--resume", "--initial-weights", colour.path]),
                                       containing: ["--initial-weights"])
            let second = try CLITool.run(common + ["--epochs", "2", "--resume"])
            try #require(second.status == 0, "\(second.diagnostics)")
            // Another architecture is refused, naming the flag.
            let other = directory.appendingPathComponent("other.safetensors").path
            let refused = try CLITool.run(["train", "--images", try PhotoFixtures.folder().path, "--checkpoint", other, "--workers", "1",
                                           "--channels", "1", "--epochs", "1", "--patch-size", "24", "--patches-per-epoch", "32",
                                           "--initial-weights", colour.path])
            CLITool.expectOneLineError(refused, containing: ["--initial-weights", "architecture"])
        }
    }

    @Test func trainWinogradIsRecordedAndKeptByResume() throws {
        try withTemporaryDirectory("photo-winograd") { directory in
            let folder = try PhotoFixtures.folder().path
            let checkpoint = directory.appendingPathComponent("photo.safetensors").path
            let common = ["train", "--images", folder, "--checkpoint", checkpoint, "--workers", "1",
                          "--patch-size", "16", "--patches-per-epoch", "16"]
            let first = try CLITool.run(common + ["--epochs", "1", "--winograd"])
            try #require(first.status == 0, "\(first.diagnostics)")
            #expect(first.stderr.contains("Winograd convolutions"))
            // Omitted on --resume, the recorded setting is kept.
            let second = try CLITool.run(common + ["--epochs", "2", "--resume", "--json"])
            try #require(second.status == 0, "\(second.diagnostics)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data((second.stdoutLines.last ?? "").utf8)) as? [String: Any])
            #expect((object["winograd"] as? Bool) == true)
            // A run started without it refuses it on --resume.
            let plain = directory.appendingPathComponent("plain.safetensors").path
            let gemm = ["train", "--images", folder, "--checkpoint", plain, "--workers", "1", "--patch-size", "16", "--patches-per-epoch", "16"]
            let started = try CLITool.run(gemm + ["--epochs", "1", "--json"])
            try #require(started.status == 0, "\(started.diagnostics)")
            let report = try #require(try JSONSerialization.jsonObject(with: Data((started.stdoutLines.last ?? "").utf8)) as? [String: Any])
            #expect(report["winograd"] == nil, "nothing new recorded or reported without the flag")
            CLITool.expectOneLineError(try CLITool.run(gemm + ["--epochs", "2", "--resume", "--winograd"]), containing: ["--winograd"])
        }
    }

    @Test func trainWinogradF4AndItsWeightGradientAreRecordedAndKeptByResume() throws {
        try withTemporaryDirectory("photo-winograd-f4") { directory in
            let folder = try PhotoFixtures.folder().path
            let checkpoint = directory.appendingPathComponent("photo.safetensors").path
            let common = ["train", "--images", folder, "--checkpoint", checkpoint, "--workers", "1",
                          "--patch-size", "16", "--patches-per-epoch", "16"]
            let first = try CLITool.run(common + ["--epochs", "1", "--winograd-f4"])
            try #require(first.status == 0, "\(first.diagnostics)")
            #expect(first.stderr.contains("Winograd F(4×4) convolutions"))
            let second = try CLITool.run(common + ["--epochs", "2", "--resume", "--json"])
            try #require(second.status == 0, "\(second.diagnostics)")
            #expect(second.stderr.contains("Winograd F(4×4) convolutions"), "omitted on --resume, the recorded setting is kept")
            let object = try #require(try JSONSerialization.jsonObject(with: Data((second.stdoutLines.last ?? "").utf8)) as? [String: Any])
            #expect((object["winogradF4"] as? Bool) == true && (object["winograd"] as? Bool) == true)
            // A run started with F(2×2) refuses --winograd-f4 on --resume.
            let f2 = directory.appendingPathComponent("f2.safetensors").path
            let started = try CLITool.run(["train", "--images", folder, "--checkpoint", f2, "--workers", "1", "--patch-size", "16",
                                           "--patches-per-epoch", "16", "--epochs", "1", "--winograd"])
            try #require(started.status == 0, "\(started.diagnostics)")
            CLITool.expectOneLineError(try CLITool.run(["train", "--images", folder, "--checkpoint", f2, "--workers", "1",
                                                        "--epochs", "2", "--resume", "--winograd-f4"]),
                                       containing: ["--winograd-f4 differs from the first run, which trained with Winograd F(2×2, 3×3)"])
            // The F(4×4) weight gradient: recorded and kept too; refused on resuming the run above, which lacks it.
            let full = directory.appendingPathComponent("full.safetensors").path
            let fullCommon = ["train", "--images", folder, "--checkpoint", full, "--workers", "1", "--patch-size", "16", "--patches-per-epoch", "16"]
            let fullFirst = try CLITool.run(fullCommon + ["--epochs", "1", "--winograd-f4-weight-gradient"])
            try #require(fullFirst.status == 0, "\(fullFirst.diagnostics)")
            #expect(fullFirst.stderr.contains("Winograd F(4×4) convolutions and weight gradients"))
            let fullSecond = try CLITool.run(fullCommon + ["--epochs", "2", "--resume", "--json"])
            try #require(fullSecond.status == 0, "\(fullSecond.diagnostics)")
            let fullReport = try #require(try JSONSerialization.jsonObject(with: Data((fullSecond.stdoutLines.last ?? "").utf8)) as? [String: Any])
            #expect((fullReport["winogradF4WeightGradient"] as? Bool) == true && (fullReport["winogradF4"] as? Bool) == true)
            #expect(object["winogradF4WeightGradient"] == nil, "absent from a run without it")
            CLITool.expectOneLineError(try CLITool.run(common + ["--epochs", "3", "--resume", "--winograd-f4-weight-gradient"]),
                                       containing: ["--winograd-f4-weight-gradient differs from the first run, whose weight gradient ran in F(2×2, 3×3)'s"])
        }
    }

    /// `dae train` on the photo fixtures' folder into `checkpoint`: one worker, 16 patches of 16×16 an epoch.
    static func photoTraining(_ checkpoint: String) throws -> [String] {
        ["train", "--images", try PhotoFixtures.folder().path, "--checkpoint", checkpoint, "--workers", "1",
         "--patch-size", "16", "--patches-per-epoch", "16"]
    }

    /// Runs `arguments` with `--json`, requires success, and returns standard error and the JSON report.
    static func trainingReport(_ arguments: [String]) throws -> (stderr: String, report: [String: Any]) {
        let run = try CLITool.run(arguments + ["--json"])
        try #require(run.status == 0, "\(run.diagnostics)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data((run.stdoutLines.last ?? "").utf8)) as? [String: Any])
        return (run.stderr, report)
    }

    /// Trains one epoch with `flag value` in `directory` and checks that the
    /// run announces it (`announced` on standard error) and reports it (the
    /// JSON report's `key` passes `reported`), that `--resume` refuses
    /// `flag other`, and that `--resume` without the flag keeps the recorded
    /// value. Returns the run's common flags, for further checks.
    static func expectRecordedAndKeptByResume(_ flag: String, _ value: String, other: String, announced: String, key: String,
                                              reported: (Any?) -> Bool, in directory: URL) throws -> [String] {
        let common = try photoTraining(directory.appendingPathComponent("photo.safetensors").path)
        let first = try trainingReport(common + ["--epochs", "1", flag, value])
        #expect(first.stderr.contains(announced))
        #expect(reported(first.report[key]), "\(key): \(first.report[key] ?? "absent")")
        CLITool.expectOneLineError(try CLITool.run(common + ["--epochs", "2", "--resume", flag, other]),
                                   containing: ["\(flag) \(other) differs from the first run's \(value)"])
        #expect(try trainingReport(common + ["--epochs", "2", "--resume"]).stderr.contains(announced))
        return common
    }

    @Test func grayPatchesAreRecordedAndKeptByResume() throws {
        try withTemporaryDirectory("photo-gray-patches") { directory in
            let common = try Self.expectRecordedAndKeptByResume("--gray-patches", "0.25", other: "0.5", announced: "25.0% made gray",
                                                                key: "grayPatches", reported: { ($0 as? NSNumber)?.doubleValue == 0.25 },
                                                                in: directory)
            CLITool.expectOneLineError(try CLITool.run(common + ["--epochs", "1", "--gray-patches", "1.5", "--force"]),
                                       containing: ["--gray-patches must be 0 to 1, got 1.5"])
            CLITool.expectOneLineError(try CLITool.run(common + ["--epochs", "1", "--gray-patches", "0.5", "--channels", "1", "--force"]),
                                       containing: ["--gray-patches needs a colour model"])
        }
    }

    @Test func textureCandidatesAreRecordedAndKeptByResume() throws {
        try withTemporaryDirectory("photo-texture-candidates") { directory in
            let common = try Self.expectRecordedAndKeptByResume("--texture-candidates", "2", other: "3",
                                                                announced: "each the most textured of 2", key: "textureCandidates",
                                                                reported: { ($0 as? NSNumber)?.intValue == 2 }, in: directory)
            CLITool.expectOneLineError(try CLITool.run(common + ["--epochs", "1", "--texture-candidates", "0", "--force"]),
                                       containing: ["--texture-candidates must be 1 to 16, got 0"])
            CLITool.expectOneLineError(try CLITool.run(common + ["--epochs", "1", "--texture-candidates", "17", "--force"]),
                                       containing: ["--texture-candidates must be 1 to 16, got 17"])
            // The checkpoint records it; without the flag, a run says nothing of it, reports 1 and records
            // nothing, as checkpoints from before the flag did.
            let checkpoint = directory.appendingPathComponent("photo.safetensors")
            #expect(try #require(try SafetensorsFile(contentsOf: checkpoint).metadata["app.dae.train"]).contains(#""textureCandidates":2"#))
            let plain = try Self.trainingReport(common + ["--epochs", "1", "--force"])
            #expect(!plain.stderr.contains("most textured"))
            #expect((plain.report["textureCandidates"] as? NSNumber)?.intValue == 1)
            #expect(try #require(try SafetensorsFile(contentsOf: checkpoint).metadata["app.dae.train"]).contains("textureCandidates") == false)
        }
    }

    @Test func permutedChannelsAreRecordedAndKeptByResume() throws {
        try withTemporaryDirectory("photo-permute-channels") { directory in
            let checkpoint = directory.appendingPathComponent("photo.safetensors")
            let common = try Self.photoTraining(checkpoint.path)
            let first = try Self.trainingReport(common + ["--epochs", "1", "--permute-channels"])
            #expect(first.stderr.contains("channels in random order"))
            #expect((first.report["permuteChannels"] as? Bool) == true)
            #expect(try #require(try SafetensorsFile(contentsOf: checkpoint).metadata["app.dae.train"]).contains(#""permuteChannels":true"#))
            // Resumed without the flag, the run keeps the first run's choice.
            let resumed = try Self.trainingReport(common + ["--epochs", "2", "--resume"])
            #expect(resumed.stderr.contains("channels in random order"))
            #expect((resumed.report["permuteChannels"] as? Bool) == true)
            // A run without it says nothing of it, reports false and records nothing; resuming it with the flag is refused.
            let plain = try Self.trainingReport(common + ["--epochs", "1", "--force"])
            #expect(!plain.stderr.contains("random order"))
            #expect((plain.report["permuteChannels"] as? Bool) == false)
            #expect(try #require(try SafetensorsFile(contentsOf: checkpoint).metadata["app.dae.train"]).contains("permuteChannels") == false)
            CLITool.expectOneLineError(try CLITool.run(common + ["--epochs", "2", "--resume", "--permute-channels"]),
                                       containing: ["--permute-channels differs from the first run, which kept the channels in order"])
            CLITool.expectOneLineError(try CLITool.run(common + ["--epochs", "1", "--permute-channels", "--channels", "1", "--force"]),
                                       containing: ["--permute-channels needs a colour model"])
        }
    }

    @Test func lossWeightingIsRecordedAndKeptByResume() throws {
        try withTemporaryDirectory("photo-loss-weighting") { directory in
            let checkpoint = directory.appendingPathComponent("photo.safetensors").path
            let common = try Self.photoTraining(checkpoint)
            let first = try Self.trainingReport(common + ["--epochs", "1", "--loss-weighting", "noise-std"])
            #expect(first.stderr.contains("loss weighted by inverse noise std"))
            #expect((first.report["lossWeighting"] as? String)?.hasPrefix("inverse noise std") == true)
            CLITool.expectOneLineError(try CLITool.run(common + ["--epochs", "2", "--resume", "--loss-weighting", "uniform"]),
                                       containing: ["--loss-weighting uniform differs from the first run's (inverse noise std"])
            // Omitted on --resume, the recorded weighting is kept; given again, it agrees.
            #expect(try Self.trainingReport(common + ["--epochs", "2", "--resume"]).stderr.contains("loss weighted by inverse noise std"))
            #expect(try Self.trainingReport(common + ["--epochs", "3", "--resume", "--loss-weighting", "noise-std"]).stderr
                .contains("loss weighted by inverse noise std"))
            // A run without it records nothing and says nothing.
            let plain = try Self.trainingReport(common + ["--epochs", "1", "--force"])
            #expect(!plain.stderr.contains("loss weighted"))
            #expect(plain.report["lossWeighting"] == nil)
            CLITool.expectOneLineError(try CLITool.run(["train", "--loss-weighting", "noise-std", "--checkpoint", checkpoint]),
                                       containing: ["--loss-weighting", "need --images"])
            CLITool.expectOneLineError(try CLITool.run(common + ["--epochs", "1", "--loss-weighting", "loud", "--force"]),
                                       containing: ["loud"])
        }
    }

    @Test func aTallImageStreamsThroughTheTutorialModel() throws {
        try withTemporaryDirectory("tall") { directory in
            let input = directory.appendingPathComponent("tall.png")
            try Fixtures.writePNG(width: 40, height: 3000, channels: 1, to: input)
            let result = try CLITool.run(["denoise", "--model", try Fixtures.modelURL().path, input.path,
                                          "--output", directory.path, "--workers", "1"])
            try #require(result.status == 0, "\(result.diagnostics)")
            let image = try PNG.read(contentsOf: directory.appendingPathComponent("tall-denoised.png"))
            #expect(image.width == 40 && image.height == 3000)
        }
    }

    @Test func photoFlagsNeedImages() throws {
        CLITool.expectOneLineError(try CLITool.run(["demo", "--patch-size", "24"]), containing: ["--images"])
        CLITool.expectOneLineError(try CLITool.run(["train", "--checkpoint", "/tmp/x.safetensors", "--images", "/tmp", "--limit", "5"]),
                                   containing: ["--images"])
        CLITool.expectOneLineError(try CLITool.run(["train", "--checkpoint", "/tmp/x.safetensors", "--data", "/tmp", "--gray-patches", "0.2"]),
                                   containing: ["--gray-patches", "need --images"])
    }
}

/// Hostile images given to `dae denoise`: refused before anything large is allocated.
@Suite(.enabled(if: CLITool.isBuilt, "the dae binary is not built: run 'swift build --product dae' first"))
struct HostileImageTests {
    /// A valid PNG header (and a little data) claiming `width × height` gray pixels.
    static func pngClaiming(width: UInt32, height: UInt32) -> Data {
        func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
            let typed = Array(type.utf8) + body
            return withUnsafeBytes(of: UInt32(body.count).bigEndian, Array.init) + typed
                + withUnsafeBytes(of: crc32(typed).bigEndian, Array.init)
        }
        let header = withUnsafeBytes(of: width.bigEndian, Array.init) + withUnsafeBytes(of: height.bigEndian, Array.init)
            + [8, 0, 0, 0, 0]
        // A stored (uncompressed) zlib stream of 100 zero bytes.
        let zlib: [UInt8] = [0x78, 0x01, 0x01, 100, 0, 155, 255] + [UInt8](repeating: 0, count: 100) + [0, 100, 0, 1]
        return Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", header) + chunk("IDAT", zlib) + chunk("IEND", []))
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    @Test func aHugeClaimedImageIsRefusedAtOnce() throws {
        try withTemporaryDirectory("hostile") { directory in
            let input = directory.appendingPathComponent("bomb.png")
            try Self.pngClaiming(width: 1_000_000, height: 1_000_000).write(to: input)
            let result = try CLITool.run(["denoise", "--model", try Fixtures.modelURL().path, input.path, "--output", directory.path])
            CLITool.expectOneLineError(result, containing: ["bomb.png", "1000000x1000000"])
        }
    }

    @Test func aTruncatedImageLeavesNoOutput() throws {
        try withTemporaryDirectory("hostile") { directory in
            let input = directory.appendingPathComponent("short.png")
            try Self.pngClaiming(width: 64, height: 4000).write(to: input)
            let out = directory.appendingPathComponent("out")
            let result = try CLITool.run(["denoise", "--model", try Fixtures.modelURL().path, input.path, "--output", out.path])
            CLITool.expectOneLineError(result, containing: ["short.png"])
            #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).isEmpty)
        }
    }
}
