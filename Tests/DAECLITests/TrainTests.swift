import DAEFiles
import DAEKit
import Foundation
import Testing

/// `dae train`: checkpoints, `--resume` and its refusals.
@Suite(.enabled(if: CLITool.isBuilt, "the dae binary is not built: run 'swift build --product dae' first"))
struct TrainTests {
    private func train(_ checkpoint: URL, _ extra: [String]) throws -> CLITool.Result {
        try CLITool.run(["train", "--data", try Fixtures.dataDirectory().path, "--checkpoint", checkpoint.path,
                         "--limit", "256", "--seed", "5", "--workers", "1", "--json"] + extra)
    }

    @Test func resumeGivesTheSameWeightsAsAnUninterruptedRun() throws {
        try withTemporaryDirectory("train") { directory in
            let resumed = directory.appendingPathComponent("resumed.safetensors")
            let straight = directory.appendingPathComponent("straight.safetensors")

            let first = try train(resumed, ["--epochs", "2"])
            try #require(first.status == 0, "\(first.diagnostics)")
            #expect(try DenoisingAutoencoder(contentsOf: resumed).epochsCompleted == 2)

            // --resume repeats the recorded options; giving the same ones again is allowed.
            let second = try CLITool.run(["train", "--data", try Fixtures.dataDirectory().path, "--checkpoint", resumed.path,
                                          "--epochs", "3", "--resume", "--json", "--seed", "5"])
            try #require(second.status == 0, "\(second.diagnostics)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data((second.stdoutLines.last ?? "").utf8)) as? [String: Any])
            let history = try #require(json["history"] as? [[String: Any]])
            #expect(history.compactMap { ($0["epoch"] as? NSNumber)?.intValue } == [1, 2, 3])

            let third = try train(straight, ["--epochs", "3"])
            try #require(third.status == 0, "\(third.diagnostics)")

            let a = try DenoisingAutoencoder(contentsOf: resumed), b = try DenoisingAutoencoder(contentsOf: straight)
            #expect(a.epochsCompleted == 3 && b.epochsCompleted == 3)
            #expect(a.parameterNames == b.parameterNames)
            for name in a.parameterNames {
                #expect(a.parameters[name]?.scalars == b.parameters[name]?.scalars, "parameter \(name) differs")
            }
            #expect(a.history.trainLosses == b.history.trainLosses)
        }
    }

    @Test func refusesToOverwriteOrToResumeNothing() throws {
        try withTemporaryDirectory("train-refuse") { directory in
            let checkpoint = directory.appendingPathComponent("model.safetensors")
            let missing = try train(checkpoint, ["--epochs", "1", "--resume"])
            CLITool.expectOneLineError(missing, containing: [checkpoint.path, "--resume"])
            #expect(!FileManager.default.fileExists(atPath: checkpoint.path))

            let first = try train(checkpoint, ["--epochs", "1"])
            try #require(first.status == 0, "\(first.diagnostics)")
            let before = try Data(contentsOf: checkpoint)

            let overwrite = try train(checkpoint, ["--epochs", "1"])
            CLITool.expectOneLineError(overwrite, containing: [checkpoint.path, "--force"])
            let otherBatch = try train(checkpoint, ["--epochs", "2", "--resume", "--batch-size", "64"])
            CLITool.expectOneLineError(otherBatch, containing: ["--batch-size"])
            let otherSeed = try train(checkpoint, ["--epochs", "2", "--resume", "--seed", "6"])
            CLITool.expectOneLineError(otherSeed, containing: ["--seed"])
            #expect(try Data(contentsOf: checkpoint) == before, "a refused run must not touch the checkpoint")

            let forced = try train(checkpoint, ["--epochs", "1", "--force", "--noise", "masking", "--noise-amount", "0.3"])
            #expect(forced.status == 0, "\(forced.diagnostics)")
        }
    }
}

extension TrainTests {
    /// A run that diverges stops at the first non-finite loss with one clear
    /// line, and the checkpoint keeps the last finite epoch.
    @Test func divergingRunStopsAndKeepsTheLastFiniteCheckpoint() throws {
        try withTemporaryDirectory("train-diverge") { directory in
            let checkpoint = directory.appendingPathComponent("model.safetensors")
            let first = try train(checkpoint, ["--epochs", "1"])
            try #require(first.status == 0, "\(first.diagnostics)")

            // Raise the learning rate stored in the checkpoint to an absurd value, so that resuming diverges.
            var file = try SafetensorsFile(contentsOf: checkpoint)
            var configuration = try JSONDecoder().decode(DenoisingAutoencoder.Configuration.self,
                                                         from: Data(try #require(file.metadata["configuration"]).utf8))
            configuration.optimizer.learningRate = 1e30
            file.metadata["configuration"] = String(decoding: try JSONEncoder().encode(configuration), as: UTF8.self)
            try file.write(to: checkpoint)
            let before = try Data(contentsOf: checkpoint)

            let diverged = try train(checkpoint, ["--epochs", "3", "--resume"])
            // Progress lines come first; the run ends with one error line naming the problem.
            #expect(diverged.status != 0, "\(diverged.diagnostics)")
            let last = diverged.stderrLines.last ?? ""
            #expect(last.hasPrefix("error: ") && last.contains("diverged") && last.contains("epoch 2"), "\(diverged.diagnostics)")
            #expect(diverged.stderrLines.filter { $0.hasPrefix("error: ") }.count == 1)
            #expect(try Data(contentsOf: checkpoint) == before, "the last finite checkpoint must stay as it was")
            let kept = try DenoisingAutoencoder(contentsOf: checkpoint)
            #expect(kept.epochsCompleted == 1)
            #expect(kept.parameters.values.allSatisfy { $0.scalars.allSatisfy(\.isFinite) })
        }
    }
}
