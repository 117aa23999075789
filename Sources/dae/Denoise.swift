import ArgumentParser
import DAEImageIO
import DAEKit
import Foundation

/// `dae denoise`: a trained model on the user's own PNG images.
struct Denoise: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove noise from PNG images with a trained model.",
        discussion: """
        Each INPUT is read (gray, RGB, with or without alpha; alpha is \
        composited over black) and converted to the model's channel count \
        (RGB to gray by BT.601 luma). An image of the model's input size is \
        denoised in one piece; any other size is cut into overlapping tiles of \
        the model's size, which are denoised and blended back together with \
        smooth weights, so large images and photographs work too. An image \
        smaller than the model's input is padded by repeating its last row and \
        column, and the padding is dropped again. The result is written as \
        <name>-denoised.png in the output directory.

        Examples:
          dae denoise --model out/model.safetensors digit.png
          dae denoise --model fashion.safetensors scans/*.png --output cleaned
          dae denoise --model fashion.safetensors photo.png --overlap 20
        """)

    @Option(help: ArgumentHelp("The model (a checkpoint written by 'dae train' or 'dae demo').", valueName: "file"))
    var model: String

    @Argument(help: ArgumentHelp("PNG images to denoise.", valueName: "input"))
    var inputs: [String]

    @Option(help: ArgumentHelp("Directory for the denoised images (created if missing).", valueName: "dir"))
    var output = "."

    @Option(help: ArgumentHelp("Minimum overlap in pixels between neighbouring tiles (default: half a tile).", valueName: "n"))
    var overlap: Int?

    @OptionGroup var workers: WorkerOptions

    func validate() throws {
        if inputs.isEmpty { throw ValidationError("give at least one PNG image to denoise") }
        try require(overlap, atLeast: 0, "--overlap")
    }

    func run() throws {
        var loaded = try ModelFile.load(model)
        loaded.workers = workers.count
        let shape = loaded.configuration.inputShape
        let (height, width, channels) = (shape[0], shape[1], shape[2])
        guard channels == 1 || channels == 3 else {
            throw CLIError("the model takes \(channels)-channel images; PNG images have 1 (gray) or 3 (RGB)")
        }
        let tileOverlap = overlap ?? min(height, width) / 2
        guard tileOverlap < min(height, width) else {
            throw CLIError("--overlap \(tileOverlap) must be smaller than the model's \(height)x\(width) tiles")
        }
        let outputURL = FileSystem.url(output)
        let names = inputs.map { FileSystem.url($0).deletingPathExtension().lastPathComponent + "-denoised.png" }
        if let repeated = names.first(where: { name in names.filter { $0 == name }.count > 1 }) {
            throw CLIError("two inputs would both be written to \(outputURL.appendingPathComponent(repeated).path); denoise them separately")
        }
        try FileSystem.prepareOutputDirectory(outputURL)
        for (input, name) in zip(inputs, names) {
            let inputURL = FileSystem.url(input)
            let image = try PNG.read(contentsOf: inputURL)
            let pixels = try image.tensor(channels: channels)
            let plan = try TilePlan(imageHeight: image.height, imageWidth: image.width,
                                    tileHeight: height, tileWidth: width, minimumOverlap: tileOverlap)
            let denoised = plan.tileCount == 1 && image.height == height && image.width == width
                ? try loaded.denoise(pixels)
                : try plan.apply(to: pixels) { try loaded.denoise($0) }
            let destination = outputURL.appendingPathComponent(name)
            try PNG.write(try Image(tensor: denoised, index: 0), to: destination)
            let how = plan.tileCount == 1 && image.height == height && image.width == width
                ? "whole" : "\(plan.tileCount) tiles of \(height)x\(width)"
            Console.output("\(inputURL.path) → \(destination.path) (\(image.width)x\(image.height), \(how))")
        }
    }
}
