@testable import DAEKit
import DAETestSupport
import Foundation
import Testing

/// Tiled inference runs stride-1 3×3 convolutions as Winograd F(4×4, 3×3)
/// (`Sources/DAELayers/Kernels/WinogradF4Convolution.swift`), whose rounding
/// reaches 3 pixels; its halo (the exactness radius) keeps tiles exact.
@Suite("Winograd inference: tile alignment, halo and exact tiles")
struct WinogradInferenceTests {
    @Test("tile origins are multiples of the Winograd tile at every resolution: 4 for inference's F(4×4), 2 for F(2×2)")
    func tileAlignment() {
        #expect(DenoisingAutoencoder.Configuration.photo(channels: 3).layerSpecs.tileAlignment == 4)
        #expect(DenoisingAutoencoder.Configuration.builtInPhoto(channels: 3).layerSpecs.tileAlignment == 4)
        #expect(DenoisingAutoencoder.Configuration.builtInPhoto(channels: 3).layerSpecs.tileAlignment(winogradOutputTile: 2) == 2)
        // Pixel unshuffle by 2, then 3×3 convolutions at half resolution: 4 · 2 (2 · 2 for F(2×2)).
        let ffdnet = DenoisingAutoencoder.Configuration.ffdnet(channels: 3).layerSpecs
        #expect(ffdnet.alignment == 2 && ffdnet.tileAlignment == 8 && ffdnet.tileAlignment(winogradOutputTile: 2) == 4)
    }

    @Test("the halo is the exactness radius (1 and 3 on alternate F(4×4) layers), not the receptive radius shown to users")
    func exactnessRadius() throws {
        let deep = DenoisingAutoencoder.Configuration.builtInPhotoDeep(channels: 3)
        #expect(deep.receptiveRadius == 17)
        // 17 convolutions: 9 · 1 + 8 · 3 = 33, rounded up to a multiple of 4 (not 17 · 3 = 51).
        #expect(deep.layerSpecs.exactnessRadius == 36)
        // F(2×2) reads only each pixel's 3×3 window: the receptive radius, rounded up to 2.
        #expect(deep.layerSpecs.exactnessRadius(winogradOutputTile: 2) == 18)
        // At half resolution every pixel counts twice: 3 · 2 per layer, plus the alignment.
        let ffdnet = DenoisingAutoencoder.Configuration.ffdnet(channels: 3)
        let layers = ffdnet.layerSpecs.filter { if case .conv2D = $0.kind { true } else { false } }.count
        let radius = try #require(ffdnet.layerSpecs.exactnessRadius)
        #expect(radius % 8 == 0 && radius >= 2 * 2 * layers && radius < 2 * 3 * layers + 8, "\(radius) for \(layers) layers")
        let model = try DenoisingAutoencoder(configuration: deep, seed: 1)
        let inference = ResidualInference(model: model)
        #expect(inference.radius == 36 && inference.tileAlignment == 4)
    }

    /// With the AVX-512 kernels every Winograd output is one fixed chain of
    /// FMAs, so a tile's pixels carry the whole image's bits (OpenBLAS may
    /// sum differently with the GEMM's size: PhotoTests allows 1e-5 there).
    @Test("tiled inference equals one Winograd F(4×4) pass over the whole image, bit for bit",
          .enabled(if: Conv2D.winogradKernels == .avx512, "OpenBLAS runs the Winograd GEMMs here: tiles agree to 1e-5 (PhotoTests)"),
          arguments: [(300, 270), (129, 5), (7, 140), (260, 131), (257, 5), (7, 270), (520, 131)])
    func tiledEqualsWholeBitForBit(size: (height: Int, width: Int)) throws {
        var configuration = DenoisingAutoencoder.Configuration.photo(channels: 3)
        configuration.layerFilters = [24, 24]
        configuration.inputShape = [16, 16, 3]
        var model = try DenoisingAutoencoder(configuration: configuration, seed: 3)
        model.workers = 2
        let image = try Photos.image(width: size.width, height: size.height, channels: 3, seed: 8).tensor(channels: 3)
        let tiled = try model.denoise(image)
        var x = image
        for i in 0...configuration.layerFilters.count {
            let name = i < configuration.layerFilters.count ? "denoiser.conv\(i)" : "denoiser.output"
            let conv = try Conv2D(name: name, inputShape: Array(x.shape.dropFirst()),
                                  kernel: try #require(model.parameters[name + ".kernel"]),
                                  bias: try #require(model.parameters[name + ".bias"]), stride: 1, padding: .same,
                                  activation: i < configuration.layerFilters.count ? .relu : .identity).withWinogradF4()
            #expect(conv.usesWinogradF4 == conv.supportsWinograd)
            x = try conv(x)
        }
        let whole = zip(image.scalars, x.scalars).map { min(max($0 - $1, 0), 1) }
        let differing = zip(tiled.scalars, whole).filter { $0 != $1 }.count
        #expect(differing == 0, "\(differing) of \(whole.count) values differ from the whole-image pass")
    }

    /// `image` (`height × width × 3`, in [0, 1]) denoised by `inference` at noise level 25/255.
    static func denoise(_ inference: inout ResidualInference, _ image: Tensor) throws -> [Float] {
        let (height, width) = (image.shape[1], image.shape[2])
        inference.noiseLevel = 25 / 255
        var output = [Float](repeating: .nan, count: height * width * 3)
        try image.withUnsafeBufferPointer { x in
            try output.withUnsafeMutableBufferPointer { y in
                try inference.denoise(x.baseAddress!, height: height, width: width, rows: 0..<height, into: y.baseAddress!)
            }
        }
        return output
    }

    /// `image` denoised as one tile, by one worker: no halo cut anywhere, the whole-image pass.
    static func wholePass(_ model: DenoisingAutoencoder, _ image: Tensor) throws -> [Float] {
        var single = model
        single.workers = 1
        var whole = ResidualInference(model: single)
        whole.side = max(image.shape[1], image.shape[2])
        return try denoise(&whole, image)
    }

    /// The built-in deep model's architecture (17 convolutions, receptive
    /// radius 17, exactness radius 36) with seeded weights on a 203 × 317
    /// image cut into 64-pixel tiles (4 × 5 tiles, each with 36 pixels of halo).
    ///
    /// Why the receptive radius is not enough: a tile's input is cut (zero
    /// padded) where the whole image has pixels. After one F(4×4) layer the
    /// values up to 3 pixels from the cut can differ in rounding from the
    /// whole image's (an output of a 4×4 Winograd tile reads input pixels up
    /// to 3 away, by its place in the tile); the band grows by 1 and 3 on
    /// alternate layers, to 33 pixels after 17. A halo of 20 (the receptive
    /// radius 17, aligned) leaves pixels near the tile's edges with other
    /// bits, and so does 32; 36 does not. The test checks all three.
    @Test("the deep model tiled in 64-pixel tiles equals the whole image bit for bit; a receptive-radius halo would not",
          .enabled(if: Conv2D.winogradKernels == .avx512, "OpenBLAS runs the Winograd GEMMs here: tiles agree to 1e-5 (PhotoTests)"))
    func deepModelTilesAreExact() throws {
        var model = try DenoisingAutoencoder(configuration: .builtInPhotoDeep(channels: 3), seed: 5)
        model.workers = 2
        let image = try Photos.image(width: 317, height: 203, channels: 3, seed: 6).tensor(channels: 3)
        let reference = try Self.wholePass(model, image)
        var tiled = ResidualInference(model: model)
        tiled.side = 64
        #expect(tiled.radius == 36)
        let exact = try Self.denoise(&tiled, image)
        let differing = zip(exact, reference).filter { $0 != $1 }.count
        #expect(differing == 0, "\(differing) of \(reference.count) values differ from the whole-image pass")
        // The halo a receptive-radius tiler would take: 17, rounded up to the alignment.
        var short = ResidualInference(model: model)
        short.side = 64
        short.radius = (model.configuration.receptiveRadius + 3) / 4 * 4
        let cut = try Self.denoise(&short, image)
        #expect(zip(cut, reference).contains { $0 != $1 }, "a halo of the receptive radius changes some bits")
        // One alignment step short of the exactness radius.
        short.radius = 32
        let nearly = try Self.denoise(&short, image)
        #expect(zip(nearly, reference).contains { $0 != $1 }, "a halo of 32 changes some bits")
    }

    /// A photograph of at most 512×512 (or a band that is one tile) no longer
    /// cuts into one tile per worker, whose halos would be computed twice:
    /// its one pass splits its Winograd blocks across the workers. Every
    /// block computes what it computes on one thread, so the bits are one
    /// worker's whole-image pass on any CPU (OpenBLAS or not).
    @Test("an image that is one tile runs one pass on every worker: one worker's whole-image bits")
    func oneTileRunsOnEveryWorker() throws {
        var model = try DenoisingAutoencoder(configuration: .builtInPhotoDeep(channels: 3), seed: 5)
        model.workers = 2
        let image = try Photos.image(width: 317, height: 203, channels: 3, seed: 6).tensor(channels: 3)
        var inference = ResidualInference(model: model)
        let plan = inference.tilePlan(rows: 203, width: 317)
        #expect(plan.threaded && plan.rowSpans == [0..<203] && plan.columnSpans == [0..<317])
        let threaded = try Self.denoise(&inference, image)
        let reference = try Self.wholePass(model, image)
        #expect(threaded.map(\.bitPattern) == reference.map(\.bitPattern))
        // More than one tile, or one worker: tiles as before, none threaded.
        #expect(!inference.tilePlan(rows: 203, width: 600).threaded)
        var single = model
        single.workers = 1
        #expect(!ResidualInference(model: single).tilePlan(rows: 203, width: 317).threaded)
        var three = model
        three.workers = 3
        let cut = ResidualInference(model: three).tilePlan(rows: 512, width: 600)
        #expect(!cut.threaded && cut.rowSpans.count * cut.columnSpans.count >= 3, "two tiles, three workers: cut in more")
    }

    @Test("bands are tileSide rows up to 12 × 2²⁰ samples, fewer for wider images, aligned, at least 16")
    func bandRowsFollowTheWidth() {
        #expect(ResidualInference.bandRows(width: 4000, channels: 3, alignment: 4) == ResidualInference.tileSide)
        #expect(ResidualInference.bandRows(width: 4096, channels: 3, alignment: 4) == ResidualInference.tileSide)
        #expect(ResidualInference.bandRows(width: 9000, channels: 3, alignment: 4) == 464)
        #expect(ResidualInference.bandRows(width: 20000, channels: 3, alignment: 4) == 208)
        #expect(ResidualInference.bandRows(width: 20000, channels: 3, alignment: 8) == 208)
        #expect(ResidualInference.bandRows(width: 30000, channels: 3, alignment: 8) == 136)
        #expect(ResidualInference.bandRows(width: 1 << 20, channels: 1, alignment: 4) == 16)
        #expect(ResidualInference.bandRows(width: 1 << 20, channels: 1, alignment: 12) == 24)
        for width in [1, 17, 5000, 9000, 77_777, 1 << 18] {
            for channels in [1, 3] {
                let rows = ResidualInference.bandRows(width: width, channels: channels, alignment: 4)
                #expect(rows % 4 == 0 && rows >= 16 && rows <= ResidualInference.tileSide)
                #expect(rows == 16 || rows == ResidualInference.tileSide || rows * width * channels <= ResidualInference.bandSamples)
            }
        }
    }

    /// The deep model streamed from a file band by band (bands of
    /// ``ResidualInference/tileSide`` rows, each read with the halo above and
    /// below) against the image denoised in memory, and against one pass over
    /// the whole image: the same bytes.
    @Test("the deep model's streamed file equals the image denoised in memory and in one whole pass",
          .enabled(if: Conv2D.winogradKernels == .avx512, "OpenBLAS runs the Winograd GEMMs here: tiles agree to 1e-5 (PhotoTests)"))
    func deepModelStreamedEqualsInMemory() throws {
        var model = try DenoisingAutoencoder(configuration: .builtInPhotoDeep(channels: 3), seed: 7)
        model.workers = 2
        let height = ResidualInference.tileSide + 61, width = 37
        let image = try Photos.image(width: width, height: height, channels: 3, seed: 8)
        let batch = Tensor(shape: [1, height, width, 3], scalars: image.pixels.map { Float($0) / 255 })
        let level: Float = 25 / 255
        let inMemory = try model.denoise(batch, noiseLevel: level)
        let whole = try Self.wholePass(model, batch)
        #expect(inMemory.scalars == whole, "tiles in memory against one whole pass")
        try withTemporaryDirectory { directory in
            let input = directory.appendingPathComponent("in.png"), output = directory.appendingPathComponent("out.png")
            try PNG.write(image, to: input)
            _ = try model.denoiseImageFile(input, to: output, noiseLevel: level)
            let streamed = try PNG.read(contentsOf: output).pixels
            #expect(streamed == inMemory.scalars.map(Image.byte(from:)))
            #expect(streamed == whole.map(Image.byte(from:)))
        }
    }
}
