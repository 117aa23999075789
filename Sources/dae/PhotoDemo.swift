import DAEImageIO
import DAEKit
import Foundation

/// `dae demo --images DIR`: the photo model trained on a folder of photographs.
struct PhotoDemo {
    let demo: Demo
    let directory: String

    /// The demo's default epochs on photographs (4096 patches of 40² each):
    /// about 10 minutes of training on 2 cores.
    static let defaultEpochs = 16

    func run() throws {
        let outputURL = FileSystem.url(demo.output)
        try demo.checkOutputsAreNew(["model.safetensors", "denoised.png"], in: outputURL)
        let data = try demo.photos.load(directory)
        try FileSystem.prepareOutputDirectory(outputURL)
        data.announce()
        var configuration = DenoisingAutoencoder.Configuration.photo(channels: data.folder.channels)
        configuration.inputShape = data.patches.imageShape
        var model = try DenoisingAutoencoder(configuration: configuration, seed: demo.seed)
        model.workers = demo.workers.count
        let epochs = demo.epochs ?? Self.defaultEpochs
        Console.note("model: the photo preset (residual, \(model.configuration.layerFilters.count + 1) convolutions, "
            + "\(model.parameterCount) parameters), blind noise std 0–55/255, epochs: \(epochs) (learning rate decayed to a tenth), "
            + "batch \(demo.batchSize), "
            + "workers: \(model.workers)")
        var options = TrainingOptions(epochs: epochs, batchSize: demo.batchSize, noise: .photoBlind, seed: demo.seed)
        options.learningRateSchedule = PhotoRecipe.schedule(epochs: epochs)
        var loop = TrainingLoop(totalEpochs: epochs, options: options)
        loop.interruptedMessage = { "interrupted after \($0) of \(epochs) epochs: no figure or model was written" }
        try loop.run(&model, train: data.patches, validation: data.validationPatches)

        let modelURL = outputURL.appendingPathComponent("model.safetensors")
        try model.save(to: modelURL)
        let figureURL = outputURL.appendingPathComponent("denoised.png")
        try PNG.write(try Self.figure(model: model, heldOut: data.validation), to: figureURL)
        Console.note("evaluating on \(data.validation.count) held-out images at full resolution, noise std 15, 25, 50 (/255)…")
        let robustness = try model.evaluate(photos: data.validation)
        // The built-in photo denoiser on the same held-out images and noise, for comparison (colour folders only).
        var builtIn: [RobustnessResult]?
        if data.folder.channels == 3, var pretrained = try? DenoisingAutoencoder.pretrained(.photo) {
            pretrained.workers = model.workers
            Console.note("evaluating the built-in photo denoiser (σ estimated per image) on the same images…")
            builtIn = try pretrained.evaluate(photos: data.validation)
        }
        Console.note("wrote \(figureURL.path), \(modelURL.path)")

        Tables.history(model.history).print()
        Console.output("")
        Tables.robustness(robustness, stdScale: 255).print()
        if let builtIn {
            Console.output("")
            Console.output("The built-in photo denoiser (dae denoise without --model) on the same held-out images:")
            Tables.robustness(builtIn, stdScale: 255).print()
        }
        if demo.json {
            struct Outputs: Encodable { let denoised, model: String }
            struct Report: Encodable {
                let epochs, batchSize: Int
                let seed: UInt64
                let workers: Int
                let configuration: ConfigurationReport
                let history: [EpochReport]
                let robustness: [RobustnessReport]
                let builtInRobustness: [RobustnessReport]?
                let outputs: Outputs
            }
            printJSON(Joined(PhotoDataReport(data), Report(
                epochs: epochs, batchSize: demo.batchSize, seed: demo.seed, workers: model.workers,
                configuration: ConfigurationReport(of: model), history: EpochReport.all(model.history),
                robustness: RobustnessReport.all(robustness), builtInRobustness: builtIn.map(RobustnessReport.all),
                outputs: Outputs(denoised: figureURL.path, model: modelURL.path))))
        }
    }

    /// The side of the figure's crops.
    static let cropSide = 256
    /// The noise shown in the figure: std 25/255.
    static let figureStd: Float = 25 / 255

    /// Clean / noisy (std 25/255) / denoised center crops of the held-out images, at full size.
    static func figure(model: DenoisingAutoencoder, heldOut: ImageFolder) throws -> Image {
        let rows = try heldOut.files.indices.prefix(4).map { index in
            let image = try heldOut.image(at: index)
            let side = min(cropSide, image.height, image.width)
            let clean = try image.tensor(channels: heldOut.channels)
            let crop = try centerCrop(clean, side: side)
            let noisy = DenoisingAutoencoder.noisyPhoto(crop, std: figureStd, seed: DemoFigures.noiseSeed, index: index)
            return (clean: crop, noisy: noisy, denoised: try model.denoise(noisy))
        }
        return try ImageGrid.photoFigure(rows: rows)
    }

    /// The `side × side` center of a `[1, h, w, c]` image.
    static func centerCrop(_ image: Tensor, side: Int) throws -> Tensor {
        let (h, w, c) = (image.shape[1], image.shape[2], image.shape[3])
        let top = (h - side) / 2, left = (w - side) / 2
        var scalars = [Float]()
        scalars.reserveCapacity(side * side * c)
        for y in top..<(top + side) {
            let start = ((y * w) + left) * c
            scalars.append(contentsOf: image.scalars[start..<(start + side * c)])
        }
        return Tensor(shape: [1, side, side, c], scalars: scalars)
    }
}
