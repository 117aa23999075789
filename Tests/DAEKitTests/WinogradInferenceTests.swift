@testable import DAEKit
import DAETestSupport
import Foundation
import Testing

/// Inference runs stride-1 3×3 convolutions as Winograd F(2×2, 3×3)
/// (`Sources/DAELayers/WinogradConvolution.swift`); tiles stay exact.
@Suite("Winograd inference: tile alignment and exact tiles")
struct WinogradInferenceTests {
    @Test("tile origins are multiples of the Winograd tile at every resolution")
    func tileAlignment() {
        #expect(DenoisingAutoencoder.Configuration.photo(channels: 3).layerSpecs.tileAlignment == 2)
        #expect(DenoisingAutoencoder.Configuration.builtInPhoto(channels: 3).layerSpecs.tileAlignment == 2)
        // Pixel unshuffle by 2, then 3×3 convolutions at half resolution: 2 · 2.
        let ffdnet = DenoisingAutoencoder.Configuration.ffdnet(channels: 3).layerSpecs
        #expect(ffdnet.alignment == 2 && ffdnet.tileAlignment == 4)
    }

    /// With the AVX-512 kernels every Winograd output is one fixed chain of
    /// FMAs, so a tile's pixels carry the whole image's bits (OpenBLAS may
    /// sum differently with the GEMM's size: PhotoTests allows 1e-5 there).
    @Test("tiled inference equals one Winograd pass over the whole image, bit for bit",
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
                                  activation: i < configuration.layerFilters.count ? .relu : .identity).withWinograd()
            #expect(conv.usesWinograd == conv.supportsWinograd)
            x = try conv(x)
        }
        let whole = zip(image.scalars, x.scalars).map { min(max($0 - $1, 0), 1) }
        let differing = zip(tiled.scalars, whole).filter { $0 != $1 }.count
        #expect(differing == 0, "\(differing) of \(whole.count) values differ from the whole-image pass")
    }
}
