import DAEKit
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `dae train` killed at random moments (SIGKILL: no handler, no cleanup)
/// and interrupted with Ctrl-C (SIGINT): the checkpoint on disk must always
/// load and hold a whole epoch, and resuming after all the kills must end
/// with exactly the weights of a run that was never killed.
///
/// Stale temporary files: a writer killed between creating its temporary
/// file and renaming it leaves that file (`.model.safetensors.tmp-<pid>-<random>`)
/// behind until the next successful write of the checkpoint removes it. The
/// test checks that whatever is left belongs to killed processes, at most
/// one each per file, and that a run that ends normally leaves none.
@Suite(.enabled(if: CLITool.isBuilt, "the dae binary is not built: run 'swift build --product dae' first"), .serialized)
struct CheckpointKillTests {
    /// Kills to attempt, and the time after which no new round starts.
    static let kills = 20
    static let killPhaseSeconds = 40.0

    /// A `dae train` process running in the background, its output in files.
    final class Running {
        let process = Process()
        let stdoutURL: URL, stderrURL: URL

        init(_ arguments: [String], logs: URL, label: String) throws {
            let binary = try #require(CLITool.binary, "the dae binary is not built")
            stdoutURL = logs.appendingPathComponent("\(label).out")
            stderrURL = logs.appendingPathComponent("\(label).err")
            try Data().write(to: stdoutURL)
            try Data().write(to: stderrURL)
            process.executableURL = binary
            process.arguments = arguments
            var environment = ProcessInfo.processInfo.environment
            environment["DAE_DATA"] = nil
            process.environment = environment
            process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
            process.standardError = try FileHandle(forWritingTo: stderrURL)
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }

        var pid: Int32 { process.processIdentifier }

        func signal(_ number: Int32) { _ = kill(pid, number) }

        /// Waits for the exit (at most `seconds`, then SIGKILL) and returns status and stderr.
        func wait(atMost seconds: Double = 120) -> (status: Int32, reason: Process.TerminationReason, stderr: String) {
            let deadline = Date().addingTimeInterval(seconds)
            while process.isRunning && Date() < deadline { usleep(5_000) }
            if process.isRunning { signal(SIGKILL) }
            process.waitUntilExit()
            let stderr = (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? ""
            return (process.terminationStatus, process.terminationReason, stderr)
        }
    }

    /// The tutorial model on 64 synthetic images (4 batches of 16 per epoch), one worker.
    private func trainArguments(data: URL, checkpoint: URL, epochs: Int, resume: Bool) -> [String] {
        ["train", "--data", data.path, "--checkpoint", checkpoint.path, "--epochs", String(epochs)]
            + (resume ? ["--resume"] : ["--batch-size", "16", "--seed", "11", "--workers", "1"])
    }

    /// Temporary files left in `directory` by atomic writes, with the pid in their name.
    private func temporaryFiles(in directory: URL) throws -> [(name: String, pid: Int32)] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).compactMap { name in
            guard name.hasPrefix("."), let range = name.range(of: ".tmp-") else { return nil }
            let pid = Int32(name[range.upperBound...].prefix { $0.isNumber }) ?? -1
            return (name, pid)
        }
    }

    /// The checkpoint's epoch count after checking that it loads and that its history is whole.
    private func checkCheckpoint(_ url: URL, context: String) throws -> Int {
        let model: DenoisingAutoencoder
        do {
            model = try DenoisingAutoencoder(contentsOf: url)
        } catch {
            Issue.record("\(context): the checkpoint does not load: \(error)")
            throw error
        }
        let epochs = model.epochsCompleted
        #expect(epochs >= 1, "\(context)")
        #expect(model.history.epochs.map(\.epoch) == Array(1...max(epochs, 1)),
                "\(context): history \(model.history.epochs.map(\.epoch)) does not match \(epochs) epochs")
        for (name, tensor) in model.parameters {
            #expect(tensor.scalars.allSatisfy { $0.isFinite }, "\(context): parameter \(name) is not finite")
        }
        return epochs
    }

    /// N of the last "epoch N/T done: … → saved …" line `dae train` wrote to standard error.
    static func lastSavedEpoch(in stderr: String) -> Int? {
        stderr.split(whereSeparator: \.isNewline).reversed().lazy.compactMap { line -> Int? in
            guard line.contains(" done: "), line.contains("→ saved"), let start = line.range(of: "epoch ") else { return nil }
            return Int(line[start.upperBound...].prefix { $0.isNumber })
        }.first
    }

    @Test("SIGKILL at random moments never damages the checkpoint, and resuming ends bit-identical")
    func killedAtRandomMoments() throws {
        let directory = try Scratch.directory("kill")
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appendingPathComponent("data"), runs = directory.appendingPathComponent("runs")
        let logs = directory.appendingPathComponent("logs")
        for url in [data, runs, logs] { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) }
        try Fixtures.writeDataset(into: data, trainCount: 64, testCount: 16)
        let checkpoint = runs.appendingPathComponent("model.safetensors")

        let seed = UInt64.random(in: 0...UInt64(UInt32.max))
        var rng = SplitMix64(seed: seed)
        var killedPids = Set<Int32>()
        var lastEpochs = 0
        var transitions = 0 // kills after which the checkpoint held a newer epoch
        var killsDuringWrites = 0 // kills while this process's temporary checkpoint file existed
        let start = Date()
        var round = 0
        while round < Self.kills && Date().timeIntervalSince(start) < Self.killPhaseSeconds {
            round += 1
            let resume = FileManager.default.fileExists(atPath: checkpoint.path)
            let running = try Running(trainArguments(data: data, checkpoint: checkpoint, epochs: 100_000, resume: resume),
                                      logs: logs, label: "kill-\(round)")
            // Even rounds: a random moment (start-up takes part of the delay,
            // so some kills land before the first epoch ends). Odd rounds: the
            // moment this process's temporary checkpoint file appears, i.e.
            // in the middle of writing it.
            let midWrite = resume && round % 2 == 1
            var delay = Double.random(in: 0.05...0.9, using: &rng)
            var caughtWriting = false
            if !resume {
                // No checkpoint yet: let the first epoch finish (however loaded
                // the machine is), so that later rounds have one to protect.
                let deadline = Date().addingTimeInterval(120)
                while !FileManager.default.fileExists(atPath: checkpoint.path) && running.process.isRunning && Date() < deadline {
                    usleep(1_000)
                }
                delay = 0
            } else if midWrite {
                let marker = ".\(checkpoint.lastPathComponent).tmp-\(running.pid)-"
                let deadline = Date().addingTimeInterval(10)
                while running.process.isRunning && Date() < deadline {
                    let names = (try? FileManager.default.contentsOfDirectory(atPath: runs.path)) ?? []
                    if names.contains(where: { $0.hasPrefix(marker) }) { caughtWriting = true; break }
                    usleep(100)
                }
                delay = 0
            } else {
                usleep(UInt32(delay * 1e6))
            }
            running.signal(SIGKILL)
            let (status, reason, stderr) = running.wait()
            killedPids.insert(running.pid)
            if caughtWriting { killsDuringWrites += 1 }
            let context = "round \(round) (seed \(seed), \(midWrite ? "mid-write" : "delay \(delay) s"), resume \(resume))"
            if reason == .exit {
                Issue.record("\(context): exited by itself with status \(status) before the kill: \(stderr)")
                continue
            }
            #expect(status == SIGKILL, "\(context): terminated by signal \(status)")

            if FileManager.default.fileExists(atPath: checkpoint.path) {
                let epochs = try checkCheckpoint(checkpoint, context: context)
                // The last epoch this process reported saved (after the rename
                // returned), or the one the checkpoint held before it started:
                // the checkpoint holds that one (previous) or the next (new).
                let saved = Self.lastSavedEpoch(in: stderr) ?? lastEpochs
                #expect(epochs == saved || epochs == saved + 1,
                        "\(context): the checkpoint holds epoch \(epochs), the process last saved epoch \(saved)")
                #expect(epochs >= lastEpochs, "\(context): the checkpoint went back from epoch \(lastEpochs) to \(epochs)")
                if epochs > lastEpochs { transitions += 1 }
                lastEpochs = epochs
            } else {
                #expect(lastEpochs == 0, "\(context): the checkpoint disappeared after epoch \(lastEpochs)")
            }
            // Only killed processes leave temporary files, at most one per target file each.
            let temporaries = try temporaryFiles(in: runs)
            for file in temporaries {
                #expect(killedPids.contains(file.pid), "\(context): unexpected temporary file \(file.name)")
            }
            // ".<target>.tmp-<pid>-<random>" without "-<random>": one writer of one file.
            let perWriter = Dictionary(grouping: temporaries, by: { $0.name[..<($0.name.lastIndex(of: "-") ?? $0.name.endIndex)] })
            #expect(perWriter.values.allSatisfy { $0.count == 1 }, "\(context): \(temporaries.map(\.name))")
        }
        try #require(round >= 5, "too few kill rounds in the time limit (\(round))")
        try #require(lastEpochs >= 1, "no kill round let an epoch finish (seed \(seed))")

        // Resume without a kill to a fixed total, then train the same total without interruption.
        let total = lastEpochs + 2
        let finished = try Running(trainArguments(data: data, checkpoint: checkpoint, epochs: total, resume: true),
                                   logs: logs, label: "resume").wait()
        try #require(finished.status == 0 && finished.reason == .exit, "resume failed: \(finished.stderr)")
        let straightURL = runs.appendingPathComponent("straight.safetensors")
        let straight = try Running(trainArguments(data: data, checkpoint: straightURL, epochs: total, resume: false),
                                   logs: logs, label: "straight").wait()
        try #require(straight.status == 0 && straight.reason == .exit, "straight run failed: \(straight.stderr)")

        let resumed = try DenoisingAutoencoder(contentsOf: checkpoint)
        let reference = try DenoisingAutoencoder(contentsOf: straightURL)
        #expect(resumed.epochsCompleted == total && reference.epochsCompleted == total)
        for name in reference.parameterNames {
            #expect(resumed.parameters[name]?.scalars == reference.parameters[name]?.scalars,
                    "parameter \(name) differs from the uninterrupted run's after \(round) kills (seed \(seed))")
        }
        #expect(resumed.history.trainLosses == reference.history.trainLosses)

        let stale = try temporaryFiles(in: runs)
        #expect(stale.allSatisfy { killedPids.contains($0.pid) }, "a run that ended normally left \(stale.map(\.name))")
        print("CheckpointKillTests: \(round) kills survived (seed \(seed)), \(killsDuringWrites) of them while the checkpoint "
              + "was being written; the checkpoint advanced after \(transitions) of them, "
              + "reached epoch \(lastEpochs); \(stale.count) stale temporary file(s) left by killed writers")
    }

    @Test("Ctrl-C (SIGINT) during dae train exits non-zero with a message and leaves a loadable checkpoint")
    func interruptedBySIGINT() throws {
        let directory = try Scratch.directory("sigint")
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try Fixtures.writeDataset(into: data, trainCount: 64, testCount: 16)
        let checkpoint = directory.appendingPathComponent("model.safetensors")

        let running = try Running(trainArguments(data: data, checkpoint: checkpoint, epochs: 100_000, resume: false),
                                  logs: directory, label: "sigint")
        // Wait for the first checkpoint, so the signal arrives during training.
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: checkpoint.path) && running.process.isRunning && Date() < deadline {
            usleep(10_000)
        }
        try #require(FileManager.default.fileExists(atPath: checkpoint.path), "no checkpoint appeared within 60 s")
        usleep(UInt32.random(in: 0...100_000))
        running.signal(SIGINT)
        let (status, reason, stderr) = running.wait(atMost: 60)

        #expect(reason == .exit, "dae train died of the signal instead of exiting: \(stderr)")
        #expect(status == 130, "status \(status): \(stderr)")
        let lastLine = stderr.split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
        #expect(lastLine.contains("error: interrupted"), "stderr: \(stderr)")
        #expect(lastLine.contains(checkpoint.path), "the message does not name the checkpoint: \(lastLine)")
        let epochs = try checkCheckpoint(checkpoint, context: "after SIGINT")
        #expect(lastLine.contains("holds epoch \(epochs)"), "the message does not state the saved epoch \(epochs): \(lastLine)")
        let temporaries = try temporaryFiles(in: directory)
        #expect(temporaries.isEmpty, "SIGINT left temporary files: \(temporaries.map(\.name))")
    }
}
