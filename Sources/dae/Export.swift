import ArgumentParser
import DAEKit
import Foundation

/// `dae export`: a checkpoint without its optimizer state, for use.
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a trained checkpoint for use: weights, configuration and history, without Adam's state.",
        discussion: """
        The file is a third of the checkpoint's size and loads in every command \
        and in DenoisingAutoencoder(contentsOf:); training it again starts a fresh \
        optimizer. The built-in photo denoiser ships this way \
        (scripts/train-builtin-model --ship). The output is written atomically and \
        an existing file is replaced only with --force.

        Example:
          dae export Models/checkpoints/builtin-photo-rgb.safetensors photo.safetensors
        """)

    @Argument(help: ArgumentHelp("The checkpoint (written by 'dae train' or 'dae demo').", valueName: "checkpoint"))
    var checkpoint: String

    @Argument(help: ArgumentHelp("The file to write.", valueName: "output"))
    var output: String

    @Flag(help: "Replace an existing output file.")
    var force = false

    func run() throws {
        let model = try ModelFile.load(checkpoint, flag: "checkpoint")
        let url = FileSystem.url(output)
        if FileSystem.url(checkpoint).standardizedFileURL.resolvingSymlinksInPath() == url.standardizedFileURL.resolvingSymlinksInPath() {
            throw CLIError("the output is the checkpoint itself; write it elsewhere")
        }
        if FileSystem.exists(url), !force { throw CLIError("\(url.path) exists; add --force to replace it") }
        try model.saveForInference(to: url)
        Console.output("\(url.path): \(model.parameterCount) parameters, \(model.epochsCompleted) epochs")
    }
}
