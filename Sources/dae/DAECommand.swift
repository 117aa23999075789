import ArgumentParser
import DAEKit
import Foundation

/// The `dae` command: the root of the subcommands, and the one place where
/// errors become a single `error: …` line on standard error.
@main
struct DAECommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dae",
        abstract: "A convolutional denoising autoencoder on the CPU (im2col + OpenBLAS GEMM, direct loops for few channels).",
        discussion: """
        Data: the commands read a directory in the MNIST layout (train-images-idx3-ubyte, \
        t10k-images-idx3-ubyte and their labels, plain or .gz). Without --data they use, \
        in order: $DAE_DATA; the MNIST cache $XDG_CACHE_HOME/dae/mnist (default \
        ~/.cache/dae/mnist, filled by 'dae fetch mnist') if it holds the four files; \
        /usr/share/datasets/fashion-mnist (sudo apt-get install dataset-fashion-mnist). \
        Each command says on standard error which directory it uses.

        Output: results (tables, JSON) go to standard output, progress and notes to \
        standard error. Exit status: 0 success, 1 error, 64 bad command line, \
        130 interrupted (Ctrl-C).

        Examples:
          dae demo                        # the Keras tutorial: train, figures, table
          dae demo --limit 2048 --epochs 1
          dae train --checkpoint model.safetensors --epochs 10
          dae evaluate --model model.safetensors --json
          dae denoise --model model.safetensors noisy.png
          dae summary
          dae fetch mnist
        """,
        version: "1.0.0",
        subcommands: [Demo.self, Train.self, Evaluate.self, Denoise.self, Summary.self, Export.self, Fetch.self])

    /// Parses the command line, runs the command, and reports any failure as one line.
    static func main() {
        Interruption.shared.install()  // Ctrl-C and SIGTERM: message, status 130, no temporary file left
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(reporting: error)
        }
    }

    /// Prints help or one `error:` line for `error` and exits with its status.
    static func exit(reporting error: any Error) -> Never {
        let message: String
        var status: Int32 = 1
        switch error {
        case let error as DAEError:
            message = error.description
            if case .cancelled = error { status = CLIError.interruptedStatus }
        case let error as CLIError:
            message = error.description
            status = error.exitStatus
        case let code as ExitCode:
            Foundation.exit(code.rawValue)
        default:
            let code = exitCode(for: error)
            if code == .success { exit(withError: error) }  // --help, --version
            status = code.rawValue
            message = self.message(for: error) + (code == .validationFailure ? " (see '\(helpCommand) --help')" : "")
        }
        Console.writeError(Console.lineStart + "error: " + oneLine(message) + "\n")
        Foundation.exit(status)
    }

    /// `dae` or `dae <subcommand>`, as typed, for the hint after a usage error.
    private static var helpCommand: String {
        let names = configuration.subcommands.map { $0._commandName }
        if let first = CommandLine.arguments.dropFirst().first, names.contains(first) { return "dae \(first)" }
        return "dae"
    }

    /// `text` on one line: line breaks become "; ", runs of spaces one space.
    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
            .joined(separator: "; ")
    }
}
