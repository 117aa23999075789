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
        is read with a halo wider than the model's receptive field, so the output is \
        what denoising the whole image at once gives. An autoencoder (the \
        tutorial's model) denoises overlapping tiles of its input size, \
        blended back together with smooth weights; --overlap sets their least \
        overlap (default: half a tile). An image smaller than a tile is padded \
        by repeating its last row and column, and the padding dropped again.

        Every input is tried: a file that fails is reported and the others \
        are still denoised; the exit status is then 1.

        Without --model, the built-in photo denoiser runs (trained by the \
        library on photographs of Debian packages; see the README). It takes \
        the noise level as an input: --sigma sets it (0-255 scale), otherwise \
        it is estimated for each image and printed. A colour file that holds \
        a gray picture under noise drawn per channel (its colour is only \
        noise) is denoised as gray, its channels' mean through the gray \
        model, and written as RGB.

        Examples:
          dae denoise photo.jpg
          dae denoise night.jpg --sigma 30 --output cleaned
          dae denoise --model out/model.safetensors digit.png
          dae denoise --model photos.safetensors holiday/*.jpg --output cleaned
          dae denoise --model fashion.safetensors scan.png --overlap 20
        """)

    @Option(help: ArgumentHelp("The model (a checkpoint written by 'dae train' or 'dae demo'); default: the built-in photo denoiser.",
                               valueName: "file"))
    var model: String?

    @Option(help: ArgumentHelp("The noise std on the 0-255 scale, for a model with a noise-level map such as the built-in one "
                               + "(higher removes more); default: estimated for each image and printed.", valueName: "n"))
    var sigma: Float?

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
        if let sigma, !(sigma.isFinite && sigma >= 0 && sigma <= 255) {
            throw ValidationError("--sigma must be in 0...255 (the noise std of 8-bit pixel values), got \(sigma)")
        }
    }

    func run() throws {
        Interruption.shared.install()
        Interruption.shared.setExitMessage("interrupted: the image being written was removed")
        let outputURL = FileSystem.url(output)
        try FileSystem.checkOutputDirectoryName(outputURL)
        let names = inputs.map { FileSystem.url($0).deletingPathExtension().lastPathComponent + "-denoised.png" }
        if let repeated = names.first(where: { name in names.filter { $0 == name }.count > 1 }) {
            throw CLIError("two inputs would both be written to \(outputURL.appendingPathComponent(repeated).path); denoise them separately")
        }
        // No output may be one of the inputs (a.png and a-denoised.png given together, say).
        let inputPaths = Set(inputs.map { FileSystem.url($0).standardizedFileURL.resolvingSymlinksInPath().path })
        for name in names {
            let destination = outputURL.appendingPathComponent(name).standardizedFileURL.resolvingSymlinksInPath().path
            if inputPaths.contains(destination) {
                throw CLIError("\(destination) is one of the inputs and would be overwritten by another input's result; "
                    + "choose another --output directory")
            }
        }
        var given: DenoisingAutoencoder?
        if let model {
            var loaded = try ModelFile.load(model, inputShape: inputShape.value)
            if sigma != nil, !loaded.configuration.noiseMap {
                Console.note("--sigma is ignored: this model has no noise-level map (it was trained blind)")
            }
            loaded.workers = workers.count
            let shape = loaded.configuration.inputShape
            if loaded.configuration.tilingStrategy == .blendedTiles, let overlap, overlap >= min(shape[0], shape[1]) {
                throw CLIError("--overlap \(overlap) must be smaller than the model's \(shape[0])x\(shape[1]) tiles")
            }
            given = loaded
        } else if inputShape.value != nil {
            throw CLIError("--input-shape is for a weights-only --model file")
        }
        var builtIn = BuiltInPhotoDenoiser(workers: workers.count)
        builtIn.onLoad = { which, model in
            Console.note("model: the built-in photo denoiser, \(which == .photoGray ? "gray" : "colour") "
                + "(\(model.parameterCount) parameters; --model picks another)")
        }
        try FileSystem.prepareOutputDirectory(outputURL)
        var failures = 0
        for (input, name) in zip(inputs, names) {
            let inputURL = FileSystem.url(input)
            let destination = outputURL.appendingPathComponent(name)
            do {
                let bar = FileProgress(label: inputURL.lastPathComponent)
                defer { bar.finish() }
                // The argument's own bytes: a name that is not UTF-8 is read too (its output name shows U+FFFD).
                let path = ArgumentBytes.path(input), level = sigma.map { $0 / 255 }
                let report = try given?.denoiseImageFile(at: path, to: destination, overlap: overlap, noiseLevel: level, progress: bar.update)
                    ?? builtIn.denoiseImageFile(at: path, to: destination, noiseLevel: level, progress: bar.update)
                let noise = report.noiseLevel.map {
                    String(format: ", noise σ %.1f%@", $0 * 255, sigma == nil ? " (estimated)" : "")
                        + (report.grayContent ? " in the channels' mean" : "")
                } ?? ""
                let gray = report.grayContent ? ", a gray picture: its channels' mean by the gray model" : ""
                let depth = report.outputBitDepth > 8 ? ", \(report.outputBitDepth)-bit" : ""
                Console.output("\(inputURL.path) → \(destination.path) (\(report.width)x\(report.height)\(depth), \(report.method)\(gray)\(noise))")
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
