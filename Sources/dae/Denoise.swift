import ArgumentParser
import DAEImageIO
import DAEKit
import Foundation

/// `dae denoise`: a trained model on the user's own PNG images.
struct Denoise: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove noise from PNG and JPEG images with a trained model; write PNGs.",
        discussion: """
        Each INPUT (PNG or JPEG, told apart by content; gray, RGB, with or \
        without alpha, which is composited over black) is converted to the \
        model's channel count (RGB to gray by BT.601 luma) and denoised as a \
        stream: rows are read, denoised and written band by band, so memory \
        depends on the image's width, not its height. The result is written as \
        <name>-denoised.png in the output directory, atomically (a partial file \
        never appears, even on Ctrl-C).

        A residual (photo) model runs on any size directly: each band of rows \
        is read with a halo of the model's receptive field, so the output is \
        what denoising the whole image at once gives. An autoencoder (the \
        tutorial's model) denoises overlapping tiles of its input size, \
        blended back together with smooth weights; --overlap sets their least \
        overlap (default: half a tile). An image smaller than a tile is padded \
        by repeating its last row and column, and the padding dropped again.

        Every input is tried: a file that fails is reported and the others \
        are still denoised; the exit status is then 1.

        Examples:
          dae denoise --model out/model.safetensors digit.png
          dae denoise --model photos.safetensors holiday/*.jpg --output cleaned
          dae denoise --model fashion.safetensors scan.png --overlap 20
        """)

    @Option(help: ArgumentHelp("The model (a checkpoint written by 'dae train' or 'dae demo').", valueName: "file"))
    var model: String

    @Argument(help: ArgumentHelp("PNG or JPEG images to denoise.", valueName: "input"))
    var inputs: [String]

    @Option(help: ArgumentHelp("Directory for the denoised images (created if missing).", valueName: "dir"))
    var output = "."

    @Option(help: ArgumentHelp("Minimum overlap in pixels between neighbouring tiles of an autoencoder (default: half a tile).", valueName: "n"))
    var overlap: Int?

    @OptionGroup var workers: WorkerOptions
    @OptionGroup var inputShape: ModelInputShapeOption

    func validate() throws {
        if inputs.isEmpty { throw ValidationError("give at least one PNG or JPEG image to denoise") }
        try require(overlap, atLeast: 0, "--overlap")
    }

    func run() throws {
        Interruption.shared.install()
        Interruption.shared.setExitMessage("interrupted: the image being written was removed")
        var loaded = try ModelFile.load(model, inputShape: inputShape.value)
        loaded.workers = workers.count
        let shape = loaded.configuration.inputShape
        if loaded.configuration.architecture == .autoencoder, let overlap, overlap >= min(shape[0], shape[1]) {
            throw CLIError("--overlap \(overlap) must be smaller than the model's \(shape[0])x\(shape[1]) tiles")
        }
        let outputURL = FileSystem.url(output)
        let names = inputs.map { FileSystem.url($0).deletingPathExtension().lastPathComponent + "-denoised.png" }
        if let repeated = names.first(where: { name in names.filter { $0 == name }.count > 1 }) {
            throw CLIError("two inputs would both be written to \(outputURL.appendingPathComponent(repeated).path); denoise them separately")
        }
        try FileSystem.prepareOutputDirectory(outputURL)
        var failures = 0
        for (input, name) in zip(inputs, names) {
            let inputURL = FileSystem.url(input)
            let destination = outputURL.appendingPathComponent(name)
            do {
                let report = try loaded.denoiseImageFile(inputURL, to: destination, overlap: overlap)
                Console.output("\(inputURL.path) → \(destination.path) (\(report.width)x\(report.height), \(report.method))")
            } catch {
                if inputs.count == 1 { throw error }  // one input: its error is the one line
                failures += 1
                Console.writeError("error: \(DAECommand.oneLine(String(describing: error)))\n")
            }
        }
        if failures > 0 {
            throw CLIError("\(failures) of \(inputs.count) images could not be denoised (see above)")
        }
    }
}
