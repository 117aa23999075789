import DAEFiles
import DAEKit
import Foundation
import Testing

/// Every failure is one `error:` line on standard error and a non-zero status.
@Suite(.enabled(if: CLITool.isBuilt, "the dae binary is not built: run 'swift build --product dae' first"))
struct ErrorPathTests {
    @Test func missingDataDirectoryNamesWhereItLooked() throws {
        let missing = "/nonexistent/dae-test-data"
        let byFlag = try withTemporaryDirectory("out") { output in
            try CLITool.run(["demo", "--data", missing, "--epochs", "1", "--output", output.path])
        }
        CLITool.expectOneLineError(byFlag, containing: [missing, "--data", "apt-get install dataset-fashion-mnist", "dae fetch mnist"])
        let byEnvironment = try CLITool.run(["evaluate", "--model", try Fixtures.modelURL().path],
                                            environment: ["DAE_DATA": missing])
        CLITool.expectOneLineError(byEnvironment, containing: [missing, "DAE_DATA"])
    }

    @Test func corruptIDXFile() throws {
        try withTemporaryDirectory("corrupt-idx") { directory in
            let data = try Fixtures.copyOfData(in: directory)
            let file = data.appendingPathComponent("train-images-idx3-ubyte")
            let bytes = try Data(contentsOf: file)
            try bytes.prefix(1000).write(to: file)  // cut short
            let result = try CLITool.run(["train", "--data", data.path, "--checkpoint",
                                          directory.appendingPathComponent("m.safetensors").path])
            CLITool.expectOneLineError(result, containing: ["train-images-idx3-ubyte"])
        }
    }

    @Test func corruptCheckpoint() throws {
        try withTemporaryDirectory("corrupt") { directory in
            let file = directory.appendingPathComponent("model.safetensors")
            try Data("this is not a safetensors file at all".utf8).write(to: file)
            let evaluate = try CLITool.run(["evaluate", "--model", file.path, "--data", try Fixtures.dataDirectory().path])
            CLITool.expectOneLineError(evaluate, containing: [file.path])
            let summary = try CLITool.run(["summary", "--model", file.path])
            CLITool.expectOneLineError(summary, containing: [file.path])
            let resume = try CLITool.run(["train", "--data", try Fixtures.dataDirectory().path, "--checkpoint", file.path,
                                          "--resume", "--epochs", "2"])
            CLITool.expectOneLineError(resume, containing: [file.path])
        }
    }

    @Test func modelOfAnotherConfiguration() throws {
        try withTemporaryDirectory("other-config") { directory in
            // A model for 16x16 images cannot run on 28x28 data.
            let small = directory.appendingPathComponent("small.safetensors")
            try DenoisingAutoencoder(configuration: .init(inputShape: [16, 16, 1], layerFilters: [8], latentDim: 4), seed: 1)
                .save(to: small)
            let evaluate = try CLITool.run(["evaluate", "--model", small.path, "--data", try Fixtures.dataDirectory().path])
            CLITool.expectOneLineError(evaluate, containing: [small.path, "16x16x1", "28x28x1"])

            // A file whose metadata claims one configuration and whose tensors belong to another.
            var file = try SafetensorsFile(contentsOf: try Fixtures.modelURL())
            let other = DenoisingAutoencoder.Configuration(latentDim: 8)
            file.metadata["configuration"] = String(decoding: try JSONEncoder().encode(other), as: UTF8.self)
            let mismatched = directory.appendingPathComponent("mismatched.safetensors")
            try file.write(to: mismatched)
            let denoise = try CLITool.run(["denoise", "--model", mismatched.path, "whatever.png"])
            CLITool.expectOneLineError(denoise, containing: [mismatched.path])
        }
    }

    @Test(arguments: [
        ["train", "--checkpoint", "x.safetensors", "--epochs=-3"],
        ["train", "--checkpoint", "x.safetensors", "--epochs", "-3"],
        ["demo", "--epochs", "0"],
        ["train", "--checkpoint", "x.safetensors", "--noise", "purple"],
        ["train", "--checkpoint", "x.safetensors", "--noise-std=-1"],
        ["train", "--checkpoint", "x.safetensors", "--noise", "masking", "--noise-amount", "1.5"],
        ["train", "--checkpoint", "x.safetensors", "--batch-size", "0"],
        ["train", "--checkpoint", "x.safetensors", "--filters", "32,x"],
        ["evaluate", "--model", "m.safetensors", "--std", "0.5,abc"],
        ["demo", "--no-such-flag"],
        ["train"],
        ["fetch", "cifar"],
        ["frobnicate"],
    ])
    func badFlags(_ arguments: [String]) throws {
        let result = try withTemporaryDirectory("flags") { try CLITool.run(arguments, in: $0) }
        CLITool.expectOneLineError(result)
        #expect(result.status == 64, "a usage error exits with 64: \(result.diagnostics)")
    }

    @Test func unwritableOutput() throws {
        // A path through a regular file cannot be created, even by root.
        try withTemporaryDirectory("blocked") { directory in
            let blocker = directory.appendingPathComponent("file")
            try Data("x".utf8).write(to: blocker)
            let output = blocker.appendingPathComponent("out")
            let demo = try CLITool.run(["demo", "--data", try Fixtures.dataDirectory().path, "--epochs", "1", "--output", output.path])
            CLITool.expectOneLineError(demo, containing: [blocker.path])

            let input = directory.appendingPathComponent("digit.png")
            try Fixtures.writePNG(width: 28, height: 28, channels: 1, to: input)
            let denoise = try CLITool.run(["denoise", "--model", try Fixtures.modelURL().path, input.path, "--output", output.path])
            CLITool.expectOneLineError(denoise, containing: [blocker.path])

            let train = try CLITool.run(["train", "--data", try Fixtures.dataDirectory().path,
                                         "--checkpoint", output.appendingPathComponent("m.safetensors").path])
            CLITool.expectOneLineError(train, containing: [blocker.path])
        }
    }

    @Test func badImageInputs() throws {
        try withTemporaryDirectory("bad-png") { directory in
            let missing = directory.appendingPathComponent("missing.png")
            let result = try CLITool.run(["denoise", "--model", try Fixtures.modelURL().path, missing.path, "--output", directory.path])
            CLITool.expectOneLineError(result, containing: [missing.path])

            let corrupt = directory.appendingPathComponent("corrupt.png")
            try Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3]).write(to: corrupt)
            let bad = try CLITool.run(["denoise", "--model", try Fixtures.modelURL().path, corrupt.path, "--output", directory.path])
            CLITool.expectOneLineError(bad, containing: [corrupt.path])
        }
    }

    @Test func missingModelFile() throws {
        let result = try CLITool.run(["evaluate", "--model", "/nonexistent/model.safetensors",
                                      "--data", try Fixtures.dataDirectory().path])
        CLITool.expectOneLineError(result, containing: ["/nonexistent/model.safetensors"])
    }
}
