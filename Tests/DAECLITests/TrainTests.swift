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
        let directory = try Scratch.directory("train")
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

    @Test func refusesToOverwriteOrToResumeNothing() throws {
        let directory = try Scratch.directory("train-refuse")
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
