import DAEImageIO
import DAEKit
import Foundation

/// `dae demo --images DIR`: the photo model trained on patches of a folder
/// of photographs, shown and measured on its held-out files, beside the
/// built-in photo denoiser.
struct PhotoDemoData: DemoData {
    let demo: Demo
    let directory: String
    private var data: PhotoData?

    init(demo: Demo, directory: String) {
        self.demo = demo
        self.directory = directory
    }

    /// The demo's default epochs on photographs (4096 patches of 40² each):
    /// about 10 minutes of training on 2 cores.
    static let defaultEpochs = 16

    var defaultEpochs: Int { Self.defaultEpochs }
    var figureNames: [String] { ["denoised.png"] }
    var stdScale: Double { 255 }
    var comparesWithBuiltIn: Bool { true }

    mutating func load() throws { data = try demo.photos.load(directory) }
    func announce() { data?.announce() }

    func configuration(batchSize: Int) throws -> DenoisingAutoencoder.Configuration {
        var configuration = DenoisingAutoencoder.Configuration.photo(channels: data!.folder.channels)
        configuration.inputShape = data!.patches.imageShape
        return configuration
    }

    func modelDescription(_ model: DenoisingAutoencoder) -> String {
        "the photo preset (residual, \(model.configuration.layerFilters.count + 1) convolutions, "
            + "\(model.parameterCount) parameters), blind noise std 0–55/255"
    }
    var scheduleNote: String {
        " (learning rate decayed to a tenth"
            + (demo.photos.lossWeighting == .noiseStd ? "; loss weighted by \(LossWeighting.photoBalanced))" : ")")
    }
    var imagesDescription: String { "" }

    func options(epochs: Int, batchSize: Int, seed: UInt64) -> TrainingOptions {
        var options = TrainingOptions(epochs: epochs, batchSize: batchSize, noise: .photoBlind, seed: seed)
        options.learningRateSchedule = PhotoRecipe.schedule(epochs: epochs)
        options.lossWeighting = demo.photos.lossWeighting?.weighting ?? .uniform
        return options
    }

    var trainingSource: any ImageSource { data!.patches }
    var validationSource: (any ImageSource)? { data!.validationPatches }

    func finish(_ model: DenoisingAutoencoder, in directory: URL) throws -> DemoResults {
        let figureURL = directory.appendingPathComponent("denoised.png")
        try PNG.write(try Self.figure(model: model, heldOut: data!.validation), to: figureURL)
        Console.note("evaluating on \(data!.validation.count) held-out images at full resolution, noise std 15, 25, 50 (/255)…")
        var results = DemoResults(figures: [figureURL], robustness: try model.evaluate(photos: data!.validation))
        // The built-in photo denoiser on the same held-out images and noise, for comparison (colour folders only).
        if data!.folder.channels == 3, var pretrained = try? DenoisingAutoencoder.pretrained(.photo) {
            pretrained.workers = model.workers
            Console.note("evaluating the built-in photo denoiser (σ estimated per image) on the same images…")
            results.builtInRobustness = try pretrained.evaluate(photos: data!.validation)
        }
        return results
    }

    var report: any Encodable { PhotoDataReport(data!) }

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
