import DAEFiles
import DAEKit
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The hostile cases of the second reliability round (issue 14) through the
/// `dae` tool: each ends with one `error:` line (or the right result), never
/// a signal, a hang or a silently wrong file.
@Suite(.enabled(if: CLITool.isBuilt, "the dae binary is not built: run 'swift build --product dae' first"))
struct ReliabilityCLITests {
    @Test("absurd architecture flags give one error line naming the limit", arguments: [
        ["summary", "--latent-dim", "1000000000"],
        ["summary", "--latent-dim", "9223372036854775807"],
        ["summary", "--filters", "100000,100000"],
        ["summary", "--kernel-size", "99999"],
        ["summary", "--input-shape", "4611686018427387904,4611686018427387904,1"],
    ])
    func absurdArchitectureFlags(_ arguments: [String]) throws {
        let result = try CLITool.run(arguments)
        CLITool.expectOneLineError(result, containing: ["the limit is"])
    }

    @Test("train refuses an absurd architecture with one error line")
    func trainRefusesAnAbsurdArchitecture() throws {
        try withTemporaryDirectory("rel-arch") { directory in
            let result = try CLITool.run(["train", "--data", try Fixtures.dataDirectory().path, "--checkpoint",
                                          directory.appendingPathComponent("m.safetensors").path, "--latent-dim",
                                          "9223372036854775807", "--epochs", "1"])
            CLITool.expectOneLineError(result, containing: ["the limit is"])
        }
    }

    /// A synthetic data set of the given sizes in `data` under `directory`.
    private func dataDirectory(in directory: URL, trainCount: Int, testCount: Int) throws -> URL {
        let data = directory.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try Fixtures.writeDataset(into: data, trainCount: trainCount, testCount: testCount)
        return data
    }

    /// A copy of the fixture model in `directory`.
    private func modelCopy(in directory: URL, named name: String = "model.safetensors") throws -> URL {
        let url = directory.appendingPathComponent(name)
        try FileManager.default.copyItem(at: try Fixtures.modelURL(), to: url)
        return url
    }

    @Test("a training recipe beside a checkpoint with workers 0 or -1 is refused as strictly as the flag", arguments: [0, -1])
    func invalidLegacyRecipeIsRefused(_ workers: Int) throws {
        try withTemporaryDirectory("rel-recipe") { directory in
            let checkpoint = try modelCopy(in: directory)
            let recipe = #"{"batchSize":16,"noise":{"gaussian":{"mean":0.5,"std":0.5}},"seed":7,"workers":\#(workers)}"#
            let sidecar = directory.appendingPathComponent("model.safetensors.train.json")
            try Data(recipe.utf8).write(to: sidecar)
            let result = try CLITool.run(["train", "--data", try Fixtures.dataDirectory().path, "--checkpoint", checkpoint.path,
                                          "--epochs", "2", "--resume"])
            CLITool.expectOneLineError(result, containing: [sidecar.path, "workers must be at least 1, got \(workers)"])
        }
    }

    @Test("the training settings live in the checkpoint: no sidecar file, and --resume reads them back")
    func recipeIsKeptInTheCheckpoint() throws {
        try withTemporaryDirectory("rel-recipe-meta") { directory in
            let checkpoint = directory.appendingPathComponent("model.safetensors")
            let data = try Fixtures.dataDirectory().path
            let first = try CLITool.run(["train", "--data", data, "--checkpoint", checkpoint.path, "--epochs", "1",
                                         "--limit", "64", "--batch-size", "16", "--workers", "1", "--seed", "3"])
            try #require(first.status == 0, "\(first.diagnostics)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["model.safetensors"])
            let metadata = try SafetensorsFile(contentsOf: checkpoint).metadata
            let recipe = try #require(metadata["app.dae.train"])
            #expect(recipe.contains(#""batchSize":16"#) && recipe.contains(#""limit":64"#) && recipe.contains(#""workers":1"#))
            let conflicting = try CLITool.run(["train", "--data", data, "--checkpoint", checkpoint.path, "--epochs", "2",
                                               "--resume", "--batch-size", "8"])
            CLITool.expectOneLineError(conflicting, containing: ["--batch-size 8 differs from the first run's 16"])
        }
    }

    @Test("a second train on a checkpoint that another process is training is refused at once")
    func secondWriterIsRefused() throws {
        try withTemporaryDirectory("rel-lock") { directory in
            let checkpoint = try modelCopy(in: directory)
            // This test process holds the lock, as a running 'dae train' would.
            let lock = try FileLock(for: checkpoint)
            defer { lock.release() }
            let before = try Data(contentsOf: checkpoint)
            let result = try CLITool.run(["train", "--data", try Fixtures.dataDirectory().path, "--checkpoint", checkpoint.path,
                                          "--epochs", "2", "--resume"])
            CLITool.expectOneLineError(result, containing: [checkpoint.path, "another process (pid \(getpid())) is using it"])
            #expect(try Data(contentsOf: checkpoint) == before)
        }
    }

    @Test("train --force naming a directory fails before training")
    func forceOntoADirectoryFailsFirst() throws {
        try withTemporaryDirectory("rel-force") { directory in
            let target = directory.appendingPathComponent("model.safetensors")
            try FileManager.default.createDirectory(at: target, withIntermediateDirectories: false)
            let result = try CLITool.run(["train", "--data", try Fixtures.dataDirectory().path, "--checkpoint", target.path,
                                          "--epochs", "1", "--force", "--workers", "1"])
            CLITool.expectOneLineError(result, containing: [target.path, "is a directory"])
        }
    }

    @Test("a FIFO or a device given as the model is refused at once")
    func nonRegularModelFiles() throws {
        try withTemporaryDirectory("rel-fifo") { directory in
            let fifo = directory.appendingPathComponent("x.safetensors")
            #expect(mkfifo(fifo.path, 0o600) == 0)
            CLITool.expectOneLineError(try CLITool.run(["summary", "--model", fifo.path]),
                                       containing: ["is a FIFO (named pipe), not a regular file"])
            CLITool.expectOneLineError(try CLITool.run(["summary", "--model", "/dev/zero"]),
                                       containing: ["/dev/zero", "is a character device, not a regular file"])
        }
    }

    @Test("evaluate reads only the test images: a broken training file does not matter")
    func evaluateReadsOnlyTheTestSet() throws {
        try withTemporaryDirectory("rel-eval") { directory in
            let data = try Fixtures.copyOfData(in: directory)
            // A gzip "bomb" stand-in: the training file is not even valid; evaluate must not open it.
            try Data([0x1F, 0x8B, 0, 1, 2, 3]).write(to: data.appendingPathComponent("train-images-idx3-ubyte.gz"))
            try FileManager.default.removeItem(at: data.appendingPathComponent("train-images-idx3-ubyte"))
            let result = try CLITool.run(["evaluate", "--model", try Fixtures.modelURL().path, "--data", data.path,
                                          "--limit", "10", "--std", "0.5", "--json"])
            #expect(result.status == 0, "\(result.diagnostics)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data((result.stdoutLines.last ?? "").utf8)) as? [String: Any])
            #expect((json["testImages"] as? NSNumber)?.intValue == 10)
        }
    }

    @Test("a data directory holding both plain and .gz forms of a file is refused")
    func ambiguousDataDirectory() throws {
        try withTemporaryDirectory("rel-ambiguous") { directory in
            let data = try Fixtures.copyOfData(in: directory)
            let plain = data.appendingPathComponent("t10k-images-idx3-ubyte")
            try FileManager.default.copyItem(at: plain, to: data.appendingPathComponent("t10k-images-idx3-ubyte.gz"))
            let result = try CLITool.run(["evaluate", "--model", try Fixtures.modelURL().path, "--data", data.path, "--limit", "10"])
            CLITool.expectOneLineError(result, containing: ["ambiguous", "t10k-images-idx3-ubyte.gz"])
        }
    }

    @Test("a model whose output is not finite is an error naming the model, not a table of nan")
    func nonFiniteModelOutput() throws {
        try withTemporaryDirectory("rel-huge") { directory in
            var model = try DenoisingAutoencoder(contentsOf: try Fixtures.modelURL())
            for (name, value) in model.parameters {
                try model.setParameter(name, to: Tensor(shape: value.shape, scalars: (0..<value.count).map { $0 % 2 == 0 ? 3e38 : -3e38 }))
            }
            let url = directory.appendingPathComponent("huge.safetensors")
            try model.save(to: url)
            let result = try CLITool.run(["evaluate", "--model", url.path, "--data", try Fixtures.dataDirectory().path,
                                          "--limit", "10", "--std", "0.5"])
            // The notes about the data come first (the failure is found while evaluating); the error is the last line.
            #expect(result.status == 1, "\(result.diagnostics)")
            let last = result.stderrLines.last ?? ""
            #expect(last.hasPrefix("error: the model \(url.path)") && last.contains("the model is unusable"), "\(result.diagnostics)")
            #expect(result.stdout.isEmpty, "a table was printed: \(result.stdout)")
        }
    }

    @Test("a one-worker run pinned to one core gives the same checkpoint, bit for bit, as an unpinned one",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/taskset"), "taskset is not installed"))
    func determinismDoesNotDependOnCPUAffinity() throws {
        try withTemporaryDirectory("rel-affinity") { directory in
            var weights: [[String: Tensor]] = []
            for (label, launcher) in [("unpinned", [String]()), ("pinned", ["/usr/bin/taskset", "-c", "0"])] {
                let checkpoint = directory.appendingPathComponent("\(label).safetensors")
                let result = try CLITool.run(["train", "--data", try Fixtures.dataDirectory().path, "--checkpoint", checkpoint.path,
                                              "--epochs", "1", "--limit", "256", "--batch-size", "32", "--workers", "1",
                                              "--seed", "9"], launcher: launcher)
                try #require(result.status == 0, "\(label): \(result.diagnostics)")
                weights.append(try DenoisingAutoencoder(contentsOf: checkpoint).parameters)
            }
            let differing = weights[0].keys.sorted().filter { weights[0][$0]?.scalars != weights[1][$0]?.scalars }
            #expect(differing.isEmpty, "parameters that differ between the pinned and the unpinned run: \(differing)")
        }
    }

    @Test("SIGINT outside training (here during evaluate) exits with the message and status 130, not by the signal")
    func interruptOutsideTraining() throws {
        try withTemporaryDirectory("rel-sigint") { directory in
            let data = try dataDirectory(in: directory, trainCount: 1, testCount: 4000)
            let levels = [String](repeating: "0.5", count: 40).joined(separator: ",")
            let running = try CheckpointKillTests.Running(
                ["evaluate", "--model", try Fixtures.modelURL().path, "--data", data.path, "--std", levels, "--workers", "1"],
                logs: directory, label: "evaluate")
            let deadline = Date().addingTimeInterval(60)
            func stderr() -> String { (try? String(contentsOf: running.stderrURL, encoding: .utf8)) ?? "" }
            while !stderr().contains("evaluating") && running.process.isRunning && Date() < deadline { usleep(10_000) }
            try #require(running.process.isRunning, "evaluate ended before the signal: \(stderr())")
            running.signal(SIGINT)
            let (status, reason, text) = running.wait(atMost: 60)
            #expect(reason == .exit, "dae evaluate died of the signal instead of exiting: \(text)")
            #expect(status == 130, "status \(status): \(text)")
            let lastLine = text.split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
            #expect(lastLine == "error: interrupted", "stderr: \(text)")
        }
    }

    @Test("a double Ctrl-C the instant a checkpoint write starts lets the write finish: no temporary or lock file is left")
    func doubleInterruptDuringACheckpointWrite() throws {
        try withTemporaryDirectory("rel-double-sigint") { directory in
            let data = try dataDirectory(in: directory, trainCount: 64, testCount: 16)
            let output = directory.appendingPathComponent("out")
            try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
            let checkpoint = output.appendingPathComponent("model.safetensors")
            let running = try CheckpointKillTests.Running(
                ["train", "--data", data.path, "--checkpoint", checkpoint.path, "--epochs", "100000", "--batch-size", "16",
                 "--workers", "1"], logs: directory, label: "train")
            func names() -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: output.path)) ?? [] }
            // After the first checkpoint, wait for the temporary file of the next one: the signals arrive mid-write.
            let deadline = Date().addingTimeInterval(60)
            while !names().contains("model.safetensors") && running.process.isRunning && Date() < deadline { usleep(1000) }
            while !names().contains(where: { $0.contains(".tmp-") }) && running.process.isRunning && Date() < deadline {
                usleep(200)
            }
            running.signal(SIGINT)
            running.signal(SIGINT)
            let (status, reason, text) = running.wait(atMost: 60)
            #expect(reason == .exit, "dae train died of the signal instead of exiting: \(text)")
            #expect(status == 130, "status \(status): \(text)")
            #expect(names() == ["model.safetensors"], "left beside the checkpoint: \(names())")
            #expect(try DenoisingAutoencoder(contentsOf: checkpoint).epochsCompleted >= 1)
        }
    }
}

/// Count flags past what can be allocated are refused with a message, not a trap or an abort.
@Suite(.enabled(if: CLITool.isBuilt, "the dae binary is not built: run 'swift build --product dae' first"))
struct HugeCountFlagTests {
    @Test("--patches-per-epoch of 2⁶³ − 1 or 10¹¹ is one error line, in train and demo", arguments: ["9223372036854775807", "100000000000"])
    func hugePatchCounts(_ count: String) throws {
        try withTemporaryDirectory("huge-patches") { directory in
            let photos = try BuiltInDenoiserCLITests.photoFolder(in: directory, count: 2, width: 48, height: 48)
            let train = try CLITool.run(["train", "--images", photos.path, "--checkpoint", directory.appendingPathComponent("c.safetensors").path,
                                         "--patches-per-epoch", count, "--epochs", "1"])
            CLITool.expectOneLineError(train, containing: ["--patches-per-epoch"])
            let demo = try CLITool.run(["demo", "--images", photos.path, "--output", directory.appendingPathComponent("out").path,
                                        "--patches-per-epoch", count, "--epochs", "1"])
            CLITool.expectOneLineError(demo, containing: ["--patches-per-epoch"])
        }
    }
}

/// `dae demo` never writes over a file it did not create in this run, unless --force.
@Suite(.enabled(if: CLITool.isBuilt, "the dae binary is not built: run 'swift build --product dae' first"))
struct DemoOverwriteTests {
    @Test("a trained model.safetensors in --output is kept, and --force replaces it")
    func tutorialDemoKeepsAnEarlierModel() throws {
        try withTemporaryDirectory("demo-keep") { directory in
            let model = directory.appendingPathComponent("model.safetensors")
            try Data("a model the user trained".utf8).write(to: model)
            let refused = try CLITool.run(["demo", "--data", try Fixtures.dataDirectory().path, "--limit", "256", "--epochs", "1",
                                           "--output", directory.path])
            CLITool.expectOneLineError(refused, containing: ["model.safetensors", "--force"])
            #expect(try Data(contentsOf: model) == Data("a model the user trained".utf8))
            let forced = try CLITool.run(["demo", "--data", try Fixtures.dataDirectory().path, "--limit", "256", "--epochs", "1",
                                          "--output", directory.path, "--force", "--workers", "1"])
            #expect(forced.status == 0, "\(forced.diagnostics)")
            #expect(try DenoisingAutoencoder(contentsOf: model).epochsCompleted == 1)
        }
    }

    @Test("the photo demo into its own image folder refuses to replace a photograph named denoised.png")
    func photoDemoKeepsAPhotograph() throws {
        try withTemporaryDirectory("demo-photo-keep") { directory in
            for i in 0..<2 { try BuiltInDenoiserCLITests.noisyPNG(width: 48, height: 48, sigma: 0.05, to: directory.appendingPathComponent("p\(i).png")) }
            let photo = directory.appendingPathComponent("denoised.png")
            try BuiltInDenoiserCLITests.noisyPNG(width: 48, height: 48, sigma: 0.1, to: photo)
            let before = try Data(contentsOf: photo)
            let result = try CLITool.run(["demo", "--images", directory.path, "--output", directory.path, "--epochs", "1"])
            CLITool.expectOneLineError(result, containing: ["denoised.png", "--force"])
            #expect(try Data(contentsOf: photo) == before)
        }
    }
}

/// `--resume` refuses another image folder than the first run's, unless told.
@Suite(.enabled(if: CLITool.isBuilt, "the dae binary is not built: run 'swift build --product dae' first"))
struct ResumeFolderIdentityTests {
    @Test("a folder with another file is refused on --resume; --accept-changed-images continues")
    func changedFolderIsRefused() throws {
        try withTemporaryDirectory("resume-folder") { directory in
            let photos = try BuiltInDenoiserCLITests.photoFolder(in: directory, count: 3, width: 40, height: 40)
            let checkpoint = directory.appendingPathComponent("c.safetensors").path
            let common = ["train", "--images", photos.path, "--checkpoint", checkpoint, "--patches-per-epoch", "32",
                          "--patch-size", "16", "--workers", "1"]
            let first = try CLITool.run(common + ["--epochs", "1"])
            try #require(first.status == 0, "\(first.diagnostics)")
            try BuiltInDenoiserCLITests.noisyPNG(width: 40, height: 40, sigma: 0.05, to: photos.appendingPathComponent("p3.png"))
            let refused = try CLITool.run(common + ["--epochs", "2", "--resume"])
            CLITool.expectOneLineError(refused, containing: ["not the folder the first run trained on", "--accept-changed-images"])
            let accepted = try CLITool.run(common + ["--epochs", "2", "--resume", "--accept-changed-images"])
            #expect(accepted.status == 0, "\(accepted.diagnostics)")
        }
    }
}

/// A checkpoint given through a symbolic link is locked and written as the file it points at.
@Suite(.enabled(if: CLITool.isBuilt, "the dae binary is not built: run 'swift build --product dae' first"))
struct SymlinkedCheckpointTests {
    @Test("train through a link writes the target, keeps the link, and --resume through either continues one run")
    func linkIsResolved() throws {
        try withTemporaryDirectory("linked-checkpoint") { directory in
            let photos = try BuiltInDenoiserCLITests.photoFolder(in: directory, count: 2, width: 40, height: 40)
            let target = directory.appendingPathComponent("target.safetensors"), link = directory.appendingPathComponent("link.safetensors")
            try FileManager.default.createSymbolicLink(at: link, withDestinationURL: target)
            let common = ["train", "--images", photos.path, "--patches-per-epoch", "32", "--patch-size", "16", "--workers", "1"]
            let first = try CLITool.run(common + ["--checkpoint", link.path, "--epochs", "1", "--force"])
            try #require(first.status == 0, "\(first.diagnostics)")
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link.path) == target.path)
            #expect(try DenoisingAutoencoder(contentsOf: target).epochsCompleted == 1)
            let second = try CLITool.run(common + ["--checkpoint", target.path, "--epochs", "2", "--resume"])
            #expect(second.status == 0, "\(second.diagnostics)")
            #expect(try DenoisingAutoencoder(contentsOf: link).epochsCompleted == 2)
        }
    }
}

/// Third round's unclear messages: each names what is wrong.
@Suite(.enabled(if: CLITool.isBuilt, "the dae binary is not built: run 'swift build --product dae' first"))
struct ClearerMessageTests {
    @Test("a held-out file smaller than the patches is named")
    func smallHeldOutFileIsNamed() throws {
        try withTemporaryDirectory("small-held-out") { directory in
            for name in ["a.png", "b.png"] { try BuiltInDenoiserCLITests.noisyPNG(width: 120, height: 80, sigma: 0.05, to: directory.appendingPathComponent(name)) }
            try BuiltInDenoiserCLITests.noisyPNG(width: 3, height: 3, sigma: 0.05, to: directory.appendingPathComponent("z.png"))
            let result = try CLITool.run(["train", "--images", directory.path, "--checkpoint", directory.appendingPathComponent("c.safetensors").path,
                                          "--patch-size", "16", "--epochs", "1"])
            CLITool.expectOneLineError(result, containing: ["held-out", "z.png", "3x3"])
        }
    }

    @Test("resuming a photo checkpoint without --images says to pass --images")
    func photoCheckpointNeedsImages() throws {
        try withTemporaryDirectory("photo-resume-idx") { directory in
            let photos = try BuiltInDenoiserCLITests.photoFolder(in: directory, count: 2, width: 40, height: 40)
            let checkpoint = directory.appendingPathComponent("c.safetensors").path
            let first = try CLITool.run(["train", "--images", photos.path, "--checkpoint", checkpoint, "--patches-per-epoch", "32",
                                         "--patch-size", "16", "--epochs", "1", "--workers", "1"])
            try #require(first.status == 0, "\(first.diagnostics)")
            let result = try CLITool.run(["train", "--checkpoint", checkpoint, "--epochs", "2", "--resume",
                                          "--data", try Fixtures.dataDirectory().path])
            CLITool.expectOneLineError(result, containing: ["--images"])
        }
    }
}
